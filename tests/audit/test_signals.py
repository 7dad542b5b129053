"""Each signal on crafted cases with known answers (pure: no platform is started)."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.audit.engine.signals import engagement
from services.audit.engine.signals.audience import audience_signal
from services.audit.engine.signals.comments import comments_signal, normalise
from services.audit.engine.signals.engagement import benchmarks, engagement_signal, tier_of
from services.audit.engine.signals.growth import growth_signal
from services.audit.engine.signals.likes_comments import likes_comments_signal
from services.audit.engine.types import Comment, FollowerPoint, FollowerProfile, Post, Profile
from tests.audit.follower_double import RulesFollowerModel
from tests.audit.signal_inputs import bot_follower, clean_inputs, real_follower

MODEL = RulesFollowerModel()
T0 = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def post(i: int, likes: int | None, comments: int | None = None, *, at: datetime | None = None, caption: str = "",
         hashtags=(), mentions=(), views=None, paid=False) -> Post:
    return Post(
        post_id=uuid.UUID(int=i + 1), posted_at=at or T0 + timedelta(days=i), type="photo", caption=caption,
        hashtags=tuple(hashtags), mentions=tuple(mentions), likes=likes, comments=comments, views=views,
        paid_partnership=paid,
    )


def profile(followers: int | None, platform: str = "instagram") -> Profile:
    return Profile(creator_id=uuid.uuid4(), platform=platform, handle="me", followers=followers)


# --- audience quality ---------------------------------------------------------------------------

def test_empty_follower_sample_is_insufficient_data_naming_the_sample():
    s = audience_signal([], MODEL)
    assert (s.status, s.score, s.confidence) == ("insufficient_data", None, 0.0)
    assert s.missing == ("follower sample",)


def test_audience_quality_is_the_share_of_real_and_influencers_with_reachability():
    rng = random.Random(1)
    sample = [real_follower(rng, i) for i in range(60)]
    sample += [FollowerProfile(follower_count=20_000, following_count=300)] * 10  # influencers
    sample += [bot_follower(i) for i in range(20)]
    sample += [FollowerProfile(follower_count=100, following_count=4_000, has_profile_pic=True)] * 10  # mass
    s = audience_signal(sample, MODEL)
    assert s.status == "judged" and s.score == 70.0
    assert s.details["types"] == {"mass_follower": 10, "influencer": 10, "suspicious": 20, "real": 60}
    assert s.details["reachability"] == 0.9
    low, high = s.details["quality_interval"]
    assert low < 0.7 < high and high - low < 0.2
    assert s.flags == ()
    assert "70.0 % of a sample of 100 followers" in s.evidence[0]


def test_an_audience_mostly_of_bots_is_flagged_low_quality():
    rng = random.Random(2)
    sample = [bot_follower(i) for i in range(80)] + [real_follower(rng, i) for i in range(20)]
    s = audience_signal(sample, MODEL)
    assert s.score == 20.0
    assert "audience_low_quality" in s.flags


def test_a_small_poor_sample_is_judged_with_low_confidence_but_not_condemned():
    rng = random.Random(3)
    sample = [bot_follower(i) for i in range(6)] + [real_follower(rng, i) for i in range(4)]
    s = audience_signal(sample, MODEL)
    assert s.score == 40.0
    assert s.details["quality_interval"][1] > 0.5  # the interval still reaches a real majority
    assert "audience_low_quality" not in s.flags
    assert s.confidence < 0.5


def test_audience_confidence_grows_with_the_sample():
    rng = random.Random(4)
    small = audience_signal([real_follower(rng, i) for i in range(20)], MODEL)
    large = audience_signal([real_follower(rng, i) for i in range(1_000)], MODEL)
    assert small.confidence < large.confidence <= 1.0


# --- engagement against peers -------------------------------------------------------------------

def test_engagement_rate_is_likes_plus_comments_over_followers_averaged_over_posts():
    posts = [post(0, 100, 10), post(1, 200, 10), post(2, 300, 10), post(3, None, 5)]
    s = engagement_signal(profile(10_000), posts)
    assert s.details["engagement_rate"] == pytest.approx((600 + 30) / 3 / 10_000)
    assert s.details["posts"] == 3
    assert s.details["tier"] == "micro"


@pytest.mark.parametrize(("followers", "tier"), [
    (0, "nano"), (9_999, "nano"), (10_000, "micro"), (99_999, "micro"), (100_000, "mid"), (499_999, "mid"),
    (500_000, "macro"), (999_999, "macro"), (1_000_000, "mega"), (50_000_000, "mega"),
])
def test_tiers_are_discoverys(followers, tier):
    assert tier_of(followers) == tier


def test_engagement_within_the_published_range_scores_100_unflagged():
    s = engagement_signal(profile(50_000), [post(i, 1_000, 20) for i in range(12)])  # 2.04 %
    assert (s.score, s.flags) == (100.0, ())
    assert s.confidence == 1.0


def test_engagement_far_below_peers_is_flagged_low():
    s = engagement_signal(profile(50_000), [post(i, 40, 1) for i in range(12)])  # 0.082 % < 0.54 % / 3
    assert s.flags == ("engagement_rate_low",)
    assert s.score < 50
    assert any("below a third of the lowest published figure" in e for e in s.evidence)


def test_engagement_far_above_peers_is_flagged_suspiciously_high():
    s = engagement_signal(profile(50_000), [post(i, 6_000, 100) for i in range(12)])  # 12.2 % > 3.76 % x 3
    assert s.flags == ("engagement_rate_suspiciously_high",)
    assert s.score < 50


def test_engagement_just_inside_the_flag_line_is_not_flagged():
    s = engagement_signal(profile(50_000), [post(i, 5_000, 0) for i in range(12)])  # 10 % < 11.28 %
    assert s.flags == ()
    assert 50 < s.score < 100


def test_engagement_on_a_platform_without_a_published_benchmark_is_not_judged_but_measured():
    s = engagement_signal(profile(50_000, "twitch"), [post(i, 1_000, 20) for i in range(5)])
    assert s.status == "insufficient_data"
    assert s.missing == ("engagement benchmark for twitch",)
    assert "Engagement rate 2.04 %" in s.evidence[0]


def test_a_nearest_benchmark_is_trusted_less_than_a_published_one():
    published = engagement_signal(profile(50_000), [post(i, 1_000, 20) for i in range(12)])
    nearest = engagement_signal(profile(200_000), [post(i, 4_000, 80) for i in range(12)])
    assert nearest.details["benchmark"]["status"] == "nearest"
    assert nearest.confidence < published.confidence


def test_engagement_without_posts_or_followers_is_insufficient():
    assert engagement_signal(profile(50_000), []).missing == ("posts with like counts",)
    assert engagement_signal(profile(50_000), [post(i, None) for i in range(5)]).missing == ("posts with like counts",)
    assert engagement_signal(profile(None), [post(i, 10) for i in range(5)]).missing == ("follower count",)


def test_engagement_falls_back_to_the_newest_series_point_for_followers():
    series = [FollowerPoint(T0, 9_000), FollowerPoint(T0 + timedelta(days=3), 10_000)]
    s = engagement_signal(profile(None), [post(i, 100, 0) for i in range(3)], series)
    assert s.details["followers"] == 10_000


def test_every_benchmark_row_names_its_source_and_its_figures_are_ordered():
    rows = benchmarks()
    assert rows
    for row in rows:
        assert row.source.strip() and row.mapping.strip()
        assert row.status in ("published", "nearest", "none")
        if row.status != "none":
            assert 0 < row.low <= row.reference <= row.high < 1
    for platform in ("instagram", "tiktok", "youtube"):
        assert {r.tier for r in rows if r.platform == platform} == {"nano", "micro", "mid", "macro", "mega"}
    assert engagement.BENCHMARK_FILE.name == "engagement-v1.csv"


# --- likes and comments -------------------------------------------------------------------------

def test_likes_in_fixed_packages_are_flagged_too_uniform():
    s = likes_comments_signal([post(i, 1_000 + i % 3, 20) for i in range(10)])
    assert "likes_too_uniform" in s.flags
    assert s.score < 50


def test_comments_out_of_proportion_to_likes_are_flagged():
    rng = random.Random(5)
    s = likes_comments_signal([post(i, rng.randint(80, 200), 60) for i in range(10)])
    assert s.flags == ("likes_comments_ratio_low",)


def test_likes_without_conversation_are_flagged():
    rng = random.Random(6)
    s = likes_comments_signal([post(i, rng.randint(30_000, 60_000), 10) for i in range(10)])
    assert s.flags == ("likes_comments_ratio_high",)
    assert s.details["likes_per_comment_median"] > 1_000


def test_ordinary_likes_and_comments_are_not_flagged():
    s = likes_comments_signal(clean_inputs().posts)
    assert (s.score, s.flags) == (100.0, ())


def test_likes_comments_needs_five_posts():
    s = likes_comments_signal([post(i, 100, 2) for i in range(4)])
    assert s.missing == ("posts with like counts",)


# --- growth anomalies ---------------------------------------------------------------------------

def steady(days: int = 30, start: int = 200_000, per_day: int = 100, jitter: int = 30, seed: int = 8) -> list[FollowerPoint]:
    rng = random.Random(seed)
    out, count = [], start
    for d in range(days):
        out.append(FollowerPoint(T0 + timedelta(days=d), count))
        count += per_day + rng.randint(-jitter, jitter)
    return out


def spiked(series: list[FollowerPoint], index: int, gain: int) -> list[FollowerPoint]:
    return [FollowerPoint(p.observed_at, p.followers + (gain if i >= index else 0)) for i, p in enumerate(series)]


def ordinary_posts(days: int = 30) -> list[Post]:
    return [post(i, 3_000 + 97 * (i % 7), 40, at=T0 + timedelta(days=i, hours=3)) for i in range(0, days, 3)]


def test_a_bought_follower_spike_is_unexplained_flagged_and_dated():
    series = spiked(steady(), 20, 48_000)
    posts = [p for p in ordinary_posts() if not (16 <= (p.posted_at - T0).days <= 20)]
    s = growth_signal(series, posts)
    assert s.flags == ("growth_spike_unexplained",)
    (anomaly,) = s.details["anomalies"]
    assert anomaly["kind"] == "spike" and anomaly["cause"] == "unexplained"
    assert anomaly["end"].startswith("2026-02-21")
    change = series[20].followers - series[19].followers
    text = next(e for e in s.evidence if "spike" in e)
    assert f"Follower spike of +{change:,} on 2026-02-21" in text
    assert "the median daily change" in text and "no post" in text and "likely bought" in text
    assert s.score <= 60


def test_a_spike_after_a_viral_post_is_labelled_viral_and_not_flagged():
    series = spiked(steady(), 20, 48_000)
    viral = post(99, 60_000, 900, at=T0 + timedelta(days=19, hours=18))
    s = growth_signal(series, ordinary_posts() + [viral])
    (anomaly,) = s.details["anomalies"]
    assert anomaly["cause"] == "viral_post" and anomaly["post_id"] == str(viral.post_id)
    assert s.flags == () and s.score == 100.0
    assert any("explained by a post on 2026-02-21 with 60,000 likes" in e for e in s.evidence)


def test_a_spike_after_a_giveaway_is_labelled_giveaway():
    series = spiked(steady(), 20, 30_000)
    giveaway = post(99, 3_100, 40, at=T0 + timedelta(days=19), caption="GIVEAWAY! Follow and tag a friend to win")
    s = growth_signal(series, ordinary_posts() + [giveaway])
    assert s.details["anomalies"][0]["cause"] == "giveaway"
    assert s.flags == ("growth_spike_giveaway",)


@pytest.mark.parametrize("hashtags", [("sorteo2026",), ("gewinnspiel",), ("concours",)])
def test_giveaway_hashtags_in_other_languages_are_recognised(hashtags):
    series = spiked(steady(), 20, 30_000)
    giveaway = post(99, 3_100, 40, at=T0 + timedelta(days=19), caption="new post", hashtags=hashtags)
    assert growth_signal(series, [giveaway]).details["anomalies"][0]["cause"] == "giveaway"


@pytest.mark.parametrize("collab", [
    dict(caption="Collab with the best", mentions=("otherchef",)),
    dict(caption="Dinner", paid=True),
])
def test_a_spike_after_a_collaboration_is_labelled_collaboration(collab):
    series = spiked(steady(), 20, 30_000)
    s = growth_signal(series, [post(99, 3_100, 40, at=T0 + timedelta(days=19), **collab)])
    assert s.details["anomalies"][0]["cause"] == "collaboration"
    assert s.flags == ()


def test_a_gap_carrying_ordinary_growth_is_not_a_spike():
    series = steady(60)
    gapped = series[:20] + series[32:]  # 12 days missing: +1,200 in one step
    s = growth_signal(gapped)
    assert s.details["anomalies"] == [] and s.flags == ()


def test_a_spike_inside_a_gap_is_found_and_dated_by_the_gap():
    series = spiked(steady(60), 25, 60_000)
    gapped = series[:20] + series[32:]
    s = growth_signal(gapped)
    assert s.flags == ("growth_spike_unexplained",)
    assert any("between 2026-02-20 and 2026-03-05 (13 days)" in e for e in s.evidence)


def test_a_sharp_drop_is_flagged_as_a_drop():
    s = growth_signal(spiked(steady(), 15, -8_000))
    assert s.flags == ("growth_drop",)
    assert s.details["anomalies"][0]["kind"] == "drop"


def test_points_an_hour_apart_do_not_inflate_noise_into_a_spike():
    series = steady()
    extra = FollowerPoint(series[10].observed_at + timedelta(hours=1), series[10].followers + 60)
    assert growth_signal(series + [extra]).flags == ()


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0.25, max_value=20.0), min_size=4, max_size=60),
    per_day=st.integers(min_value=-500, max_value=5_000),
)
def test_steady_growth_at_any_spacing_is_never_an_anomaly(gaps, per_day):
    t, count, series = T0, 1_000_000, [FollowerPoint(T0, 1_000_000)]
    for g in gaps:
        t += timedelta(days=g)
        count += round(per_day * g)
        series.append(FollowerPoint(t, count))
    s = growth_signal(series)
    assert s.details["anomalies"] == []


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(min_value=5_000, max_value=5_000_000),
    per_day_share=st.floats(min_value=-0.002, max_value=0.01),
    at=st.integers(min_value=2, max_value=37),
    size=st.floats(min_value=0.03, max_value=0.5),
    seed=st.integers(0, 1_000),
)
def test_a_sudden_gain_of_a_few_percent_on_a_steady_series_is_always_found(start, per_day_share, at, size, seed):
    rng = random.Random(seed)
    per_day = round(start * per_day_share)
    jitter = start // 5_000  # well inside normal variation
    series = steady(40, start, per_day, jitter, seed=rng.randrange(10**6))
    gain = round(start * size)
    s = growth_signal(spiked(series, at, gain))
    spikes = [a for a in s.details["anomalies"] if a["kind"] == "spike"]
    assert [a["end"] for a in spikes] == [series[at].observed_at.isoformat()]
    assert spikes[0]["cause"] == "unexplained" and "growth_spike_unexplained" in s.flags


def test_fewer_than_three_points_is_insufficient_naming_the_series():
    one = [FollowerPoint(T0, 100)]
    same_instant = [FollowerPoint(T0, 100), FollowerPoint(T0, 100), FollowerPoint(T0 + timedelta(days=1), 110)]
    for series in ([], one, same_instant):
        s = growth_signal(series)
        assert s.status == "insufficient_data" and s.missing == ("follower time series",)


# --- comment authenticity -----------------------------------------------------------------------

def comment(text: str, i: int = 0, post_index: int = 0, author: str | None = None) -> Comment:
    return Comment(post_id=uuid.UUID(int=post_index + 1), author=author or f"a{i}", text=text,
                   commented_at=T0 + timedelta(minutes=i))


def genuine(n: int, seed: int = 9) -> list[Comment]:
    return list(clean_inputs(seed=seed, comments=n).comments)


def test_no_comments_is_insufficient_data():
    s = comments_signal([])
    assert (s.status, s.missing) == ("insufficient_data", ("comments",))


def test_a_generic_comment_flood_is_flagged_with_examples():
    flood = ["Nice pic!!", "great post 🔥", "Love it", "wow", "Me encanta", "Trop beau", "Schön!", "bellissimo"]
    comments = genuine(40) + [comment(flood[i % len(flood)], i, i % 5) for i in range(60)]
    s = comments_signal(comments)
    assert "comments_generic" in s.flags and "comments_low_authenticity" in s.flags
    kinds = s.details["kinds"]["generic"]
    assert kinds["count"] == 60 + sum(1 for c in comments[:40] if c.text == "wow")  # genuine fans say "wow" too
    assert len(kinds["examples"]) == 5 and len(set(kinds["examples"])) == 5
    assert all(e in flood for e in kinds["examples"])
    assert s.score < 50


def test_emoji_only_mention_only_and_very_short_are_told_apart():
    texts = {"😍😍": "emoji_only", "🔥🙌🏽": "emoji_only", "❤️!!": "emoji_only", "@anna @ben": "mention_only",
             "ok": "very_short", "gg": "very_short"}
    comments = genuine(30) + [comment(t, i) for i, t in enumerate(texts)]
    kinds = comments_signal(comments).details["kinds"]
    for text, kind in texts.items():
        assert text in kinds[kind]["examples"]


def test_the_same_comment_on_many_posts_is_flagged_as_duplicated():
    spam = [comment("Check out my page for amazing deals", i, i) for i in range(12)]
    s = comments_signal(genuine(60) + spam)
    assert "comments_duplicated_across_posts" in s.flags
    assert s.details["kinds"]["duplicated_across_posts"]["count"] == 12


def test_comments_duplicated_across_creators_are_flagged():
    text = "Promote it on @growfast_now 🚀"
    spam = [comment(text, i, i % 3) for i in range(8)]
    flagged = comments_signal(genuine(60) + spam, {normalise(text): 40})
    assert "comments_duplicated_across_creators" in flagged.flags
    assert flagged.details["kinds"]["duplicated_across_creators"]["examples"] == [text]
    once = comments_signal(genuine(60) + spam, {normalise(text): 1})
    assert once.details["kinds"]["duplicated_across_creators"]["count"] == 0


def test_genuine_comments_are_not_flagged():
    s = comments_signal(genuine(300))
    assert (s.score, s.flags) == (100.0, ())


def test_normalise_folds_case_width_and_punctuation_and_keeps_emoji_and_mentions():
    assert normalise("Nice pic!! 😍") == "nice pic 😍"
    assert normalise("  ＮＩＣＥ   Pic.") == "nice pic"
    assert normalise("¡Qué bonito!") == "qué bonito"
    assert normalise("@Anna look") == "@anna look"


@given(st.text(max_size=40))
def test_normalise_is_idempotent(text):
    assert normalise(normalise(text)) == normalise(text)


def test_comment_order_does_not_change_the_signal():
    comments = genuine(50) + [comment("Nice pic!!", i, i % 4) for i in range(30)]
    shuffled = comments[:]
    random.Random(10).shuffle(shuffled)
    assert comments_signal(comments) == comments_signal(shuffled)


@pytest.mark.parametrize(("text", "expected"), [
    ("@anna 😍", "@anna 😍"), ("@john.doe", "@john.doe"), ("@Best_Friend.99 @Ben!", "@best_friend.99 @ben"),
    ("great @anna.", "great @anna"), ("Nice pic!! 😍", "nice pic 😍"),
])
def test_normalise_keeps_mentions_whole_with_any_text_around_them(text, expected):
    from services.audit.engine.signals.comments import normalise

    assert normalise(text) == expected


def test_friends_tagged_with_emoji_are_mention_only():
    from services.audit.engine.signals.comments import _kinds_of_text, normalise

    assert _kinds_of_text(normalise("@anna @ben 🙌")) == ("mention_only",)
    assert _kinds_of_text(normalise("@anna.b_99")) == ("mention_only",)
    assert _kinds_of_text(normalise("@anna look at this recipe")) != ("mention_only",)
