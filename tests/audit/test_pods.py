"""Engagement pods (engine.pods) and the pods signal (engine.signals.pods) on crafted comments with
known answers: pure, no platform."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.audit.engine.pods import CommentEvent, columns, find_pods
from services.audit.engine.signals.pods import FLAG, pod_comment_count, pod_signal
from services.audit.engine.types import Comment, Pod

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def creator(i: int) -> uuid.UUID:
    return uuid.UUID(int=i)


def post_of(c: int, k: int) -> uuid.UUID:
    return uuid.UUID(int=1_000_000 + c * 100 + k)


def posted_at(c: int, k: int) -> datetime:
    return T0 + timedelta(days=k, hours=c)


def background(rng: random.Random, creators: range, posts: int = 6, per_post: int = 25, pool: int = 400,
               spread_hours: float = 8.0) -> list[CommentEvent]:
    """Organic comments: authors drawn from one shared pool (so the same people meet on many
    posts), spread over hours after each post."""
    events = []
    for c in creators:
        for k in range(posts):
            for _ in range(per_post):
                at = posted_at(c, k) + timedelta(minutes=rng.expovariate(1 / (spread_hours * 60 / 3)))
                events.append(CommentEvent(creator(c), post_of(c, k), f"fan{rng.randrange(pool)}", at))
    return events


def pod_comments(rng: random.Random, members: list[str], creators: list[int], posts: range,
                 delay_minutes: float = 30, within_minutes: float = 5) -> list[CommentEvent]:
    """Every member comments on every listed post within a few minutes of the pod's "drop"."""
    events = []
    for c in creators:
        for k in posts:
            drop = posted_at(c, k) + timedelta(minutes=delay_minutes)
            for m in members:
                at = drop + timedelta(minutes=rng.uniform(0, within_minutes))
                events.append(CommentEvent(creator(c), post_of(c, k), m, at))
    return events


FIVE = ["ana.fit", "bo_runs", "cleo.eats", "dan_lifts", "eve.yoga"]


def test_a_pod_of_five_accounts_across_three_creators_is_found_with_exactly_its_members():
    rng = random.Random(8)
    events = background(rng, range(1, 11)) + pod_comments(rng, FIVE, [1, 2, 3], range(4))

    pods = find_pods(events)

    assert len(pods) == 1
    pod = pods[0]
    assert pod.members == tuple(FIVE)
    assert pod.creators == (creator(1), creator(2), creator(3))
    assert pod.posts == 12
    assert pod.co_comments == 10 * 12  # every pair of five on each of the 12 posts
    assert "5 accounts" in pod.evidence and "12 posts of 3 creators" in pod.evidence


def test_organic_commenters_on_popular_posts_are_not_reported():
    rng = random.Random(9)
    # Popular posts: 300 commenters each from a pool of 1,500, on 4 creators x 6 posts, most of
    # them within the first hours; superfans who comment on every post, at their own times.
    events = background(rng, range(1, 5), posts=6, per_post=300, pool=1_500, spread_hours=3)
    superfans = [f"superfan{i}" for i in range(20)]
    for c in range(1, 5):
        for k in range(6):
            for fan in superfans:
                at = posted_at(c, k) + timedelta(minutes=rng.uniform(0, 180))
                events.append(CommentEvent(creator(c), post_of(c, k), fan, at))
    # People who happen to comment within a minute of each other, once.
    once = [f"passerby{i}" for i in range(6)]
    events += [
        CommentEvent(creator(1), post_of(1, 0), p, posted_at(1, 0) + timedelta(seconds=10 * i)) for i, p in enumerate(once)
    ]

    assert find_pods(events) == []


def test_a_group_commenting_together_on_one_creator_only_is_fans_not_a_pod():
    rng = random.Random(10)
    events = background(rng, range(1, 6)) + pod_comments(rng, FIVE, [1], range(6))

    assert find_pods(events) == []


def test_two_pods_working_the_same_creator_at_other_times_are_kept_apart():
    rng = random.Random(11)
    first = ["a1", "a2", "a3", "a4"]
    second = ["b1", "b2", "b3", "b4"]
    events = (
        background(rng, range(1, 9))
        + pod_comments(rng, first, [1, 2, 3], range(4), delay_minutes=20)
        + pod_comments(rng, second, [3, 4, 5], range(4), delay_minutes=200)
    )

    pods = find_pods(events)

    assert [p.members for p in pods] == [tuple(first), tuple(second)]
    assert pods[0].creators == (creator(1), creator(2), creator(3))
    assert pods[1].creators == (creator(3), creator(4), creator(5))


def test_a_stray_link_between_two_pods_does_not_merge_them():
    rng = random.Random(12)
    first = ["a1", "a2", "a3", "a4", "a5"]
    second = ["b1", "b2", "b3", "b4", "b5"]
    events = (
        background(rng, range(1, 9))
        + pod_comments(rng, first, [1, 2, 3], range(5), delay_minutes=20)
        + pod_comments(rng, second, [4, 5, 6], range(5), delay_minutes=20)
        # a1 and b1 happen to meet, together, on three posts of two other creators.
        + pod_comments(rng, ["a1", "b1"], [7, 8], range(2), delay_minutes=60)
    )

    pods = find_pods(events)

    assert sorted(p.members for p in pods) == [tuple(first), tuple(second)]


def test_creators_commenting_on_each_others_posts_are_found_as_the_reciprocal_pattern():
    rng = random.Random(13)
    handles = {"xena": creator(1), "yuri": creator(2), "zoe": creator(3)}
    events = background(rng, range(1, 7))
    # Each creator's own account comments on every post of the two others, at its own time
    # (hours apart: they never meet within minutes on a third account's post).
    for name, own in handles.items():
        for c in (1, 2, 3):
            if creator(c) == own:
                continue
            for k in range(4):
                at = posted_at(c, k) + timedelta(minutes=rng.uniform(0, 600))
                events.append(CommentEvent(creator(c), post_of(c, k), name, at))

    assert find_pods(events) == []  # without knowing whose accounts they are, nothing to see
    pods = find_pods(events, creator_handles=handles)

    assert len(pods) == 1
    assert pods[0].members == ("xena", "yuri", "zoe")
    assert pods[0].creators == (creator(1), creator(2), creator(3))
    assert pods[0].posts == 12
    assert "3 of them are creators" in pods[0].evidence


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_order_of_the_comments_does_not_change_the_pods(seed):
    rng = random.Random(14)
    events = (
        background(rng, range(1, 9))
        + pod_comments(rng, FIVE, [1, 2, 3], range(4))
        + pod_comments(rng, ["a1", "a2", "a3"], [4, 5, 6], range(4))
    )
    expected = find_pods(events)
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)

    assert len(expected) == 2
    assert find_pods(shuffled) == expected
    assert find_pods(columns(reversed(shuffled))) == expected


ORDERED = (
    background(random.Random(17), range(1, 7), per_post=15)
    + pod_comments(random.Random(18), FIVE, [1, 2, 3], range(4))
    + pod_comments(random.Random(19), ["a1", "a2", "a3"], [4, 5, 6], range(4))
)
ORDERED_PODS = find_pods(ORDERED)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_any_permutation_of_the_comments_gives_the_same_pods(rnd):
    shuffled = list(ORDERED)
    rnd.shuffle(shuffled)

    assert len(ORDERED_PODS) == 2
    assert find_pods(shuffled) == ORDERED_PODS


def test_comments_without_a_time_are_ignored():
    rng = random.Random(15)
    timeless = [e._replace(commented_at=None) for e in pod_comments(rng, FIVE, [1, 2, 3], range(4))]
    events = background(rng, range(1, 9)) + timeless

    assert find_pods(events) == []
    assert find_pods([]) == []


def test_comments_spread_beyond_the_window_are_not_a_pod():
    rng = random.Random(16)
    events = background(rng, range(1, 9)) + pod_comments(rng, FIVE, [1, 2, 3], range(4), within_minutes=5)

    assert find_pods(events, window=timedelta(minutes=10))
    # The same comments, read with a window far smaller than their spacing, do not meet.
    assert find_pods(events, window=timedelta(seconds=1)) == []


def pod(members: tuple[str, ...], creators: tuple[uuid.UUID, ...], posts: int, co_comments: int) -> Pod:
    return Pod(members=members, creators=creators, co_comments=co_comments, posts=posts,
               evidence=f"{len(members)} accounts commented within 10 minutes of each other on {posts} posts.")


def test_a_creator_with_no_pod_gets_a_clean_judged_signal():
    other = pod(tuple(FIVE), (creator(2), creator(3), creator(4)), 12, 120)

    signal = pod_signal(creator(1), [other], comments_total=2_000, commenters=850)

    assert signal.name == "pods" and signal.status == "judged"
    assert signal.score == 100.0
    assert signal.flags == ()
    assert "850 commenters" in signal.evidence[0]
    assert 0.9 < signal.confidence <= 1.0


def test_no_comments_is_insufficient_data_naming_comments():
    for total in (None, 0):
        signal = pod_signal(creator(1), [], comments_total=total)
        assert signal.status == "insufficient_data"
        assert signal.score is None
        assert signal.missing == ("comments",)


def test_a_creator_in_a_pod_is_flagged_with_its_members_and_the_other_creators():
    found = pod(tuple(FIVE), (creator(1), creator(2), creator(3)), 12, 120)

    signal = pod_signal(creator(1), [found], comments_total=200, pod_comments=40)

    assert signal.status == "judged"
    assert signal.flags == (FLAG,)
    assert signal.score is not None and signal.score < 50
    assert all(name in signal.evidence[0] for name in FIVE)
    assert str(creator(2)) in signal.evidence[0] and str(creator(3)) in signal.evidence[0]
    assert str(creator(1)) not in signal.evidence[0]
    assert "40 of the 200 comments" in signal.evidence[-1]
    assert signal.details["pod_comment_share"] == pytest.approx(0.2)


def test_the_score_falls_with_the_pods_size_activity_and_share_of_comments():
    small = pod(("a", "b", "c"), (creator(1), creator(2)), 3, 9)
    large = pod(tuple(f"m{i}" for i in range(8)), (creator(1), creator(2), creator(3)), 20, 400)

    clean = pod_signal(creator(1), [], comments_total=100).score
    in_small = pod_signal(creator(1), [small], comments_total=100).score
    in_large = pod_signal(creator(1), [large], comments_total=100).score
    mostly_pod = pod_signal(creator(1), [large], comments_total=100, pod_comments=90).score

    assert clean > in_small > in_large > mostly_pod >= 0


def test_pod_comment_count_counts_the_comments_of_members_of_the_creators_pods():
    found = pod(("a", "b", "c"), (creator(1), creator(2)), 3, 9)
    elsewhere = pod(("x", "y", "z"), (creator(5), creator(6)), 3, 9)
    comments = [Comment(post_id=post_of(1, 0), author=a, text="nice") for a in ("a", "b", "x", "fan")]

    assert pod_comment_count(creator(1), comments, [found, elsewhere]) == 2


def test_parameters_that_cannot_describe_a_pod_are_refused():
    for bad in ({"min_posts": 0}, {"min_creators": 0}, {"min_size": 1}, {"window": timedelta(minutes=-1)}):
        with pytest.raises(ValueError):
            find_pods([], **bad)


def test_a_pod_is_judged_even_when_the_creators_comments_were_not_counted():
    found = pod(tuple(FIVE), (creator(1), creator(2), creator(3)), 12, 120)

    signal = pod_signal(creator(1), [found])

    assert signal.status == "judged" and signal.flags == (FLAG,)
    assert signal.details["pod_comment_share"] is None
