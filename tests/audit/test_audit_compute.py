"""compute() and the total: the clean creator, a bought one, insufficient data, determinism."""

import dataclasses
import json
import random
import uuid
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.audit.engine import scoring
from services.audit.engine.audit import compute
from services.audit.engine.disclosure.rulebook import default_rulebook
from services.audit.engine.scoring import GRADE_BANDS, SIGNAL_ORDER, WEIGHTS, grade, total
from services.audit.engine.types import AuditInputs, Comment, FollowerPoint, FollowerProfile, Pod, Post, Profile, Signal
from tests.audit.follower_double import RulesFollowerModel
from tests.audit.signal_inputs import CREATOR, NOW, bot_follower, clean_inputs, with_spike

MODEL = RulesFollowerModel()


def judged(name: str, score: float, confidence: float = 1.0) -> Signal:
    return Signal(name=name, status="judged", score=score, weight=WEIGHTS[name], confidence=confidence)


def unjudged(name: str) -> Signal:
    return Signal(name=name, status="insufficient_data", score=None, weight=WEIGHTS[name], confidence=0.0,
                  missing=("x",))


def test_a_clean_creator_is_not_flagged_and_grades_a_or_b():
    result = compute(clean_inputs(), MODEL)
    assert result.flags == ()
    assert result.grade in ("A", "B")
    assert [s.name for s in result.signals] == list(SIGNAL_ORDER)
    # Its posts carry no sponsorship, so disclosure has nothing to grade; every other signal judges.
    assert all(s.status == "judged" for s in result.signals if s.name != "disclosure")
    assert result.signals[-1].name == "disclosure" and result.signals[-1].missing == ("sponsored posts",)
    assert result.audience_quality == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_clean_creators_of_other_seeds_are_not_flagged_either(seed):
    result = compute(clean_inputs(seed=100 + seed), MODEL)
    assert result.flags == () and result.grade in ("A", "B")


def test_a_creator_with_bought_followers_is_flagged_and_graded_down():
    clean = clean_inputs()
    bought = with_spike(clean, 60, 20_000)
    bought = dataclasses.replace(
        bought, followers=tuple(clean.followers[:100]) + tuple(bot_follower(i) for i in range(200)),
    )
    result = compute(bought, MODEL)
    assert "growth_spike_unexplained" in result.flags
    assert "audience_low_quality" in result.flags
    assert result.score < compute(clean, MODEL).score - 20
    assert result.grade not in ("A", "B")


def test_result_carries_versions_window_and_sample_sizes():
    inputs = clean_inputs(sample=120, posts=20, points=45, comments=150)
    result = compute(inputs, MODEL)
    rule_sets = default_rulebook().sets
    assert result.versions == {"model": MODEL.version, "rules": scoring.RULES_VERSION,
                               "benchmarks": scoring.BENCHMARKS_VERSION,
                               "disclosure.US": rule_sets["US"].version, "disclosure.UK": rule_sets["UK"].version,
                               "disclosure.common": default_rulebook().common.version}
    assert result.samples == {"followers": 120, "posts": 20, "series_points": 45, "comments": 150}
    moments = [p.posted_at for p in inputs.posts] + [p.observed_at for p in inputs.series] + [
        c.commented_at for c in inputs.comments]
    assert result.window == (min(moments), max(moments))


def test_nothing_after_the_audits_clock_is_read():
    inputs = clean_inputs()
    late = dataclasses.replace(inputs.posts[0], post_id=uuid.uuid4(), posted_at=NOW + timedelta(hours=1), likes=10**6)
    later = dataclasses.replace(inputs, posts=tuple(inputs.posts) + (late,))
    result = compute(later, MODEL)
    assert result.samples["posts"] == len(inputs.posts)
    assert result.window[1] <= NOW
    assert result == compute(inputs, MODEL)


def test_the_same_inputs_in_another_order_give_the_same_result():
    inputs = clean_inputs()
    rng = random.Random(11)
    shuffled = {}
    for field in ("posts", "series", "followers", "comments"):
        items = list(getattr(inputs, field))
        rng.shuffle(items)
        shuffled[field] = tuple(items)
    assert compute(inputs, MODEL) == compute(dataclasses.replace(inputs, **shuffled), MODEL)
    assert compute(inputs, MODEL) == compute(inputs, MODEL)


def test_missing_data_is_insufficient_per_signal_and_the_total_comes_from_the_rest():
    inputs = dataclasses.replace(clean_inputs(), followers=(), series=clean_inputs().series[:2], comments=())
    result = compute(inputs, MODEL)
    by_name = {s.name: s for s in result.signals}
    assert by_name["audience_quality"].missing == ("follower sample",)
    assert by_name["growth"].missing == ("follower time series",)
    assert by_name["comments"].missing == ("comments",)
    assert by_name["pods"].missing == ("comments",)
    rest = [by_name["engagement_rate"], by_name["likes_comments"]]
    expected = sum(s.weight * s.score for s in rest) / sum(s.weight for s in rest)
    assert result.score == pytest.approx(expected, abs=0.05)
    assert result.audience_quality is None
    share_judged = sum(s.weight for s in rest) / sum(WEIGHTS.values())
    assert result.confidence <= share_judged
    assert result.confidence < compute(clean_inputs(), MODEL).confidence


def test_nothing_to_judge_gives_no_score_and_no_grade():
    inputs = AuditInputs(profile=clean_inputs().profile, now=NOW)
    result = compute(inputs, MODEL)
    assert (result.score, result.grade, result.confidence) == (None, None, 0.0)
    assert all(s.status == "insufficient_data" and s.missing for s in result.signals)
    assert result.window == (None, None)


def test_a_pod_involving_the_creator_is_flagged():
    pod = Pod(members=("a", "b", "c", "d", "e"), creators=(CREATOR, uuid.uuid4(), uuid.uuid4()), co_comments=40,
              posts=12, evidence="5 accounts commented within 3 minutes of each other on 12 posts.")
    result = compute(dataclasses.replace(clean_inputs(), pods=(pod,)), MODEL)
    pods = next(s for s in result.signals if s.name == "pods")
    assert pods.name == "pods" and pods.flags == ("engagement_pod",)
    assert pods.score < 100
    assert "engagement_pod" in result.flags


def test_weights_in_the_result_are_scorings():
    result = compute(clean_inputs(), MODEL)
    assert {s.name: s.weight for s in result.signals} == WEIGHTS
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


# --- the total ----------------------------------------------------------------------------------

def test_the_total_renormalises_the_weights_of_the_judged_signals():
    signals = [judged("audience_quality", 80, 0.9), judged("engagement_rate", 40, 0.5)] + [
        unjudged(n) for n in SIGNAL_ORDER[2:]]
    score, confidence = total(signals)
    assert score == pytest.approx((0.30 * 80 + 0.20 * 40) / 0.50, abs=0.05)
    assert confidence == pytest.approx((0.30 * 0.9 + 0.20 * 0.5) / 0.50 * 0.50, abs=1e-3)


def test_one_confident_damning_signal_caps_the_total():
    signals = [judged("audience_quality", 20, 0.9)] + [judged(n, 100) for n in SIGNAL_ORDER[1:]]
    assert total(signals)[0] == 20 + scoring.WEAKEST_LINK_MARGIN
    unsure = [judged("audience_quality", 20, 0.3)] + [judged(n, 100) for n in SIGNAL_ORDER[1:]]
    assert total(unsure)[0] == pytest.approx(0.3 * 20 + 0.7 * 100, abs=0.05)


def test_signals_judged_with_too_little_confidence_make_no_total():
    # One comment, no pod among one commenter: judged, but nothing to grade a creator on.
    assert total([judged("pods", 100.0, 0.0), unjudged("audience_quality")]) == (None, 0.0)
    score, _ = total([judged("pods", 100.0, 0.05), judged("audience_quality", 40.0, 0.9)])
    assert score == 40.0


def test_no_judged_signal_gives_no_total():
    assert total([unjudged(n) for n in SIGNAL_ORDER]) == (None, 0.0)
    assert grade(None) is None


@pytest.mark.parametrize(("score", "letter"), [
    (100, "A"), (85, "A"), (84.9, "B"), (70, "B"), (69.9, "C"), (55, "C"), (54.9, "D"), (40, "D"), (39.9, "E"),
    (25, "E"), (24.9, "F"), (0, "F"),
])
def test_grade_bands(score, letter):
    assert grade(score) == letter
    assert [b[1] for b in GRADE_BANDS] == ["A", "B", "C", "D", "E", "F"]


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 100), st.floats(0, 1)), min_size=6, max_size=6))
def test_the_total_stays_within_the_judged_scores_and_confidence_within_0_1(parts):
    signals = [
        judged(name, s, c) if ok else unjudged(name) for name, (ok, s, c) in zip(SIGNAL_ORDER, parts)
    ]
    score, confidence = total(signals)
    scores = [s for ok, s, c in parts if ok and c >= scoring.MIN_CONFIDENCE]
    if not scores:
        assert score is None and confidence == 0.0
    else:
        assert min(scores) - 0.05 <= score <= max(scores) + 0.05
        assert 0.0 <= confidence <= 1.0


_moments = st.integers(min_value=0, max_value=90 * 24).map(lambda h: NOW - timedelta(hours=h))
_posts = st.lists(st.builds(
    Post, post_id=st.uuids(), posted_at=_moments, type=st.just("photo"),
    caption=st.sampled_from(["", "giveaway! win", "collab with @x", "dinner"]), mentions=st.sampled_from([(), ("x",)]),
    likes=st.none() | st.integers(0, 10**6), comments=st.none() | st.integers(0, 10**4),
    views=st.none() | st.integers(0, 10**7), paid_partnership=st.booleans(),
), max_size=15)
_series = st.lists(st.builds(FollowerPoint, observed_at=_moments, followers=st.integers(0, 10**7)), max_size=40)
_comments = st.lists(st.builds(
    Comment, post_id=st.uuids(), author=st.sampled_from(["a", "b", "c"]),
    text=st.sampled_from(["wow", "😍", "@a", "ok", "this recipe saved my week", "Nice pic!!"]) | st.text(max_size=30),
    commented_at=st.none() | _moments,
), max_size=40)
_followers = st.lists(st.builds(
    FollowerProfile, follower_count=st.none() | st.integers(0, 10**6), following_count=st.none() | st.integers(0, 10**4),
    has_profile_pic=st.none() | st.booleans(),
), max_size=30)


@settings(max_examples=150, deadline=None)
@given(posts=_posts, series=_series, comments=_comments, followers=_followers,
       profile_followers=st.none() | st.integers(0, 10**8), platform=st.sampled_from(["instagram", "tiktok", "twitch"]))
def test_any_inputs_give_bounded_scores_and_named_missing_data(posts, series, comments, followers, profile_followers, platform):
    inputs = AuditInputs(
        profile=Profile(creator_id=CREATOR, platform=platform, handle="me", followers=profile_followers),
        posts=posts, series=series, followers=followers, comments=comments, now=NOW,
    )
    result = compute(inputs, MODEL)
    for s in result.signals:
        json.dumps(s.details, allow_nan=False)  # stored as JSON: no NaN or infinity
        assert 0.0 <= s.confidence <= 1.0
        if s.status == "judged":
            assert 0.0 <= s.score <= 100.0 and s.evidence
        else:
            assert s.score is None and s.missing and s.flags == ()
    assert (result.score is None) == (result.grade is None)
    if result.score is not None:
        assert 0.0 <= result.score <= 100.0
    assert result == compute(inputs, MODEL)


@pytest.mark.parametrize("seed", [0, 100, 101])
def test_with_the_shipped_classifier_a_clean_creator_is_not_flagged(seed):
    from services.audit.engine.classifier import default_model

    result = compute(clean_inputs(seed=seed) if seed else clean_inputs(), default_model())
    assert result.flags == () and result.grade in ("A", "B")
    assert result.versions["model"] == default_model().version


def test_with_the_shipped_classifier_bought_followers_are_found():
    from services.audit.engine.classifier import default_model

    clean = clean_inputs()
    bought = dataclasses.replace(
        with_spike(clean, 60, 20_000),
        followers=tuple(clean.followers[:100]) + tuple(bot_follower(i) for i in range(200)),
    )
    result = compute(bought, default_model())
    assert {"growth_spike_unexplained", "audience_low_quality"} <= set(result.flags)
    assert result.audience_quality < 0.5
    assert result.grade not in ("A", "B")


def test_naive_and_aware_times_mix_and_naive_is_utc():
    clean = clean_inputs()
    naive = dataclasses.replace(
        clean,
        now=clean.now.replace(tzinfo=None),
        series=tuple(dataclasses.replace(p, observed_at=p.observed_at.replace(tzinfo=None)) if i % 2 else p
                     for i, p in enumerate(clean.series)),
    )
    assert compute(naive, MODEL).score == compute(clean, MODEL).score


def test_the_creators_own_replies_are_not_judged_as_its_audience():
    clean = clean_inputs()
    own = clean.profile.handle
    replies = tuple(Comment(post_id=p.post_id, author=own.upper(), text="thank you so much",
                            commented_at=p.posted_at + timedelta(hours=1)) for p in clean.posts)
    with_replies = dataclasses.replace(clean, comments=tuple(clean.comments) + replies)
    result = compute(with_replies, MODEL)
    assert result.samples["comments"] == len(clean.comments)
    assert result.flags == ()


def test_undated_comments_cannot_show_a_pod_and_blank_followers_are_no_sample():
    clean = clean_inputs()
    undated = dataclasses.replace(
        clean,
        comments=tuple(dataclasses.replace(c, commented_at=None) for c in clean.comments),
        followers=tuple(FollowerProfile() for _ in range(50)),
    )
    signals = {s.name: s for s in compute(undated, MODEL).signals}
    assert signals["pods"].status == "insufficient_data" and signals["pods"].missing == ("comment times",)
    assert signals["audience_quality"].status == "insufficient_data"
