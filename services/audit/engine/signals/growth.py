"""Growth anomalies in the follower time series, each spike with a cause label.

The series may be uneven or have gaps, so each pair of consecutive points is turned into a
per-day change: (followers after - before) / days between them (at least one day, so points an
hour apart cannot blow noise up into a spike). A gap of ten days carrying ten days of ordinary
growth is then an ordinary rate, not a spike. Normal variation is estimated robustly, by the
median and 1.4826 x MAD of those rates (Iglewicz & Hoaglin's modified z-score; the median and MAD
are not moved by the spikes they look for), with a floor of 0.1 % of the median follower count a
day so that a perfectly smooth series does not turn a small wobble into an anomaly.

An interval is a spike (drop) when its rate is at least Z_ANOMALY robust deviations above (below)
the median AND its excess over the expected change is at least MATERIAL of the followers before
AND it gained (lost) at least MATERIAL of them: a plateau in a trend gains or loses nobody.
A spike's cause is read from the posts published from two days before its end (or a day before
its start, when the interval is longer) up to its end, in this order: `giveaway` (caption words
or hashtags), `collaboration` (a paid-partnership label, or another account mentioned with a
collaboration word), `viral_post` (likes or views at least VIRAL x the creator's median), else
`unexplained` (likely bought). Unexplained spikes and giveaways are flagged; a viral post or a
collaboration is how real audiences grow and is not.

The details keep the series read (`series`: [observed_at, followers] pairs, at most SERIES_SHOWN,
every anomaly's ends among them) so the audit report can draw it from the stored audit alone.
"""

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from services.audit.engine.scoring import WEIGHTS
from services.audit.engine.signals.common import (
    MAD_TO_SIGMA, clip, count, day, insufficient, mad, median, pct, signed, times,
)
from services.audit.engine.types import FollowerPoint, Post, Signal

NAME = "growth"
# Four intervals at least: with two, a change can never stand out from the spread of the others
# (|rate - median| equals the MAD), so three points could only ever say "no spike".
MIN_POINTS = 5
Z_ANOMALY = 5.0  # robust z of the per-day change
MATERIAL = 0.005  # excess change of at least 0.5 % of the followers before
FLOOR_SHARE = 0.001  # floor of the robust spread: 0.1 % of the median follower count a day
VIRAL = 3.0  # a post with likes or views at least 3x the creator's median
FULL_INTERVALS = 30  # confidence reaches 1 at 30 intervals (a month of daily points)
SERIES_SHOWN = 400  # points of the series kept in the details, for the report's chart
LOOKBACK = timedelta(days=2)
UNEXPLAINED_PENALTY = 40.0  # plus up to 20 more as the excess reaches 10 % of followers
GIVEAWAY_PENALTY = 15.0  # giveaway followers are often low quality (HypeAuditor counts them suspicious)
DROP_PENALTY = 10.0

# Giveaway words in several languages, matched as whole words in captions and hashtags, and
# inside hashtags for the long ones (#giveawaytime, #gewinnspiel2026).
GIVEAWAY_WORDS = (
    "giveaway", "giveaways", "give away", "winner", "contest", "competition",
    "sweepstakes", "sweepstake", "raffle", "sorteo", "sorteamos", "concurso", "gewinnspiel",
    "verlosung", "gewinnen", "concours", "jeu concours", "gagner", "concorso", "sorteio", "omaggio",
)
GIVEAWAY_IN_HASHTAG = ("giveaway", "gewinnspiel", "verlosung", "sorteo", "sorteio", "concours", "concorso", "sweepstake")
COLLAB_WORDS = (
    "collab", "collabs", "collaboration", "colab", "colaboración", "colaboracion", "collaborazione",
    "kooperation", "zusammenarbeit", "partnership", "partnered", "featuring", "duet",
)
# Not collaboration words: "with @x", "ft"/"feat" next to a mention are everyday captions ("6 ft
# with @coach"); a bare "win" is "a huge win tonight". They would explain away a bought spike.
_GIVEAWAY = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in GIVEAWAY_WORDS) + r")\b", re.IGNORECASE)
_COLLAB = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in COLLAB_WORDS) + r")\b", re.IGNORECASE)


def _points(series: Sequence[FollowerPoint]) -> list[FollowerPoint]:
    """Sorted by time; of several points at one instant the largest count is kept (any fixed
    choice would do; this one does not depend on the input order)."""
    by_time: dict[datetime, int] = {}
    for p in series:
        by_time[p.observed_at] = max(p.followers, by_time.get(p.observed_at, p.followers))
    return [FollowerPoint(t, f) for t, f in sorted(by_time.items())]


def _shown(points: list[FollowerPoint], anomalies: list[dict]) -> list[list]:
    """The series the audit read, as [observed_at ISO, followers] pairs, at most SERIES_SHOWN: a
    longer series keeps evenly spaced points plus both ends of every anomaly, so a chart drawn
    from the details still shows each spike where it was found."""
    keep = range(len(points))
    if len(points) > SERIES_SHOWN:
        ends = {a[k] for a in anomalies for k in ("start", "end")}
        pinned = {i for i, p in enumerate(points) if p.observed_at.isoformat() in ends} | {0, len(points) - 1}
        step = (len(points) - 1) / max(1, SERIES_SHOWN - len(pinned) - 1)
        keep = sorted({round(k * step) for k in range(SERIES_SHOWN - len(pinned))} | pinned)[:SERIES_SHOWN]
    return [[points[i].observed_at.isoformat(), points[i].followers] for i in keep]


def _is_giveaway(post: Post) -> bool:
    text = " ".join([post.caption or "", *post.hashtags])
    if _GIVEAWAY.search(text):
        return True
    return any(w in tag.lower() for tag in post.hashtags for w in GIVEAWAY_IN_HASHTAG)


def _is_collaboration(post: Post, own_handle: str | None) -> bool:
    if post.paid_partnership:
        return True
    others = [m for m in post.mentions if m.lower().lstrip("@") != (own_handle or "").lower()]
    text = " ".join([post.caption or "", *post.hashtags])
    return bool(others) and bool(_COLLAB.search(text))


def _cause(start: datetime, end: datetime, posts: Sequence[Post], medians: dict[str, float],
           own_handle: str | None) -> tuple[str, Post | None, str]:
    window_start = min(start - timedelta(days=1), end - LOOKBACK)
    near = sorted((p for p in posts if window_start <= p.posted_at <= end), key=lambda p: (p.posted_at, str(p.post_id)))
    for p in near:
        if _is_giveaway(p):
            return "giveaway", p, f"a giveaway post on {day(p.posted_at)}"
    for p in near:
        if _is_collaboration(p, own_handle):
            how = "a paid partnership" if p.paid_partnership else "a collaboration with @" + ", @".join(p.mentions)
            return "collaboration", p, f"{how} posted on {day(p.posted_at)}"
    best, best_multiple, best_what = None, 0.0, ""
    for p in near:
        for metric in ("likes", "views"):
            value, typical = getattr(p, metric), medians.get(metric)
            if value is not None and typical and value / typical > best_multiple:
                best, best_multiple, best_what = p, value / typical, metric
    if best is not None and best_multiple >= VIRAL:
        return "viral_post", best, (
            f"a post on {day(best.posted_at)} with {count(getattr(best, best_what))} {best_what}, "
            f"{times(best_multiple)} the creator's median"
        )
    if not near:
        return "unexplained", None, f"with no post from {day(window_start)} to {day(end)}"
    posts_near = f"{len(near)} posts around it were" if len(near) > 1 else "post around it was"
    if best is not None:
        return "unexplained", None, (
            f"the {posts_near} ordinary (best {times(best_multiple)} the median {best_what})"
        )
    return "unexplained", None, f"the {posts_near} without like or view counts"


def growth_signal(series: Sequence[FollowerPoint], posts: Sequence[Post] = (), handle: str | None = None) -> Signal:
    weight = WEIGHTS[NAME]
    points = _points(series)
    if len(points) < MIN_POINTS:
        return insufficient(
            NAME, weight, ("follower time series",),
            (f"Insufficient data: the follower time series has {len(points)} points; at least {MIN_POINTS} are needed.",),
            points=len(points), min_points=MIN_POINTS,
        )
    intervals = []
    for before, after in zip(points, points[1:]):
        days = (after.observed_at - before.observed_at).total_seconds() / 86400.0
        span = max(days, 1.0)
        intervals.append((before, after, days, span, (after.followers - before.followers) / span))
    rates = [i[4] for i in intervals]
    centre = median(rates)
    level = median([p.followers for p in points])
    robust = MAD_TO_SIGMA * mad(rates, centre)
    scale = max(robust, FLOOR_SHARE * level, 1.0)
    medians = {
        metric: median(values)
        for metric in ("likes", "views")
        if (values := [getattr(p, metric) for p in posts if getattr(p, metric) is not None])
    }

    anomalies = []
    evidence = [
        f"Follower series: {len(points)} points from {day(points[0].observed_at)} to {day(points[-1].observed_at)}, "
        f"longest gap {max(i[2] for i in intervals):.1f} days; median daily change {signed(centre)}, "
        f"robust spread {count(scale)} a day."
    ]
    flags: set[str] = set()
    penalty = 0.0
    for before, after, days, span, rate in intervals:
        z = (rate - centre) / scale
        excess = (rate - centre) * span
        share = excess / max(before.followers, 1)  # from zero followers, any gain is material
        change = after.followers - before.followers
        # A spike is followers gained, a drop followers lost, each material in itself: a plateau
        # after steady growth (or steady loss) departs from the trend but gains or loses nobody,
        # and was scored as a drop (or as bought followers) "of +0".
        moved = (change if z > 0 else -change) / max(before.followers, 1)
        if abs(z) < Z_ANOMALY or abs(share) < MATERIAL or moved < MATERIAL:
            continue
        when = f"on {day(after.observed_at)}" if days <= 1.5 else (
            f"between {day(before.observed_at)} and {day(after.observed_at)} ({days:.0f} days)"
        )
        multiple = f"{times(abs(rate / centre))} the median daily change" if abs(centre) >= 1 else (
            f"{abs(z):.0f}× the robust spread of daily changes"
        )
        record = {
            "kind": "spike" if z > 0 else "drop", "start": before.observed_at.isoformat(),
            "end": after.observed_at.isoformat(), "days": round(days, 3), "change": change,
            "expected": round(centre * span), "excess": round(excess), "excess_share": round(share, 4),
            "robust_z": round(z, 1), "cause": None, "post_id": None,
        }
        if z > 0:
            cause, post, why = _cause(before.observed_at, after.observed_at, posts, medians, handle)
            record["cause"], record["post_id"] = cause, (str(post.post_id) if post else None)
            text = f"Follower spike of {signed(change)} {when}, {multiple}"
            if cause == "unexplained":
                flags.add("growth_spike_unexplained")
                penalty += UNEXPLAINED_PENALTY + 20.0 * min(1.0, share / 0.10)
                evidence.append(f"{text}, {why}: unexplained, likely bought followers.")
            elif cause == "giveaway":
                flags.add("growth_spike_giveaway")
                penalty += GIVEAWAY_PENALTY
                evidence.append(f"{text}, after {why}: giveaway followers are often low quality.")
            else:
                evidence.append(f"{text}, explained by {why}.")
        else:
            flags.add("growth_drop")
            penalty += DROP_PENALTY
            evidence.append(
                f"Follower drop of {signed(change)} {when} ({pct(-share)} of followers), {multiple}: "
                "often a platform removing fake accounts."
            )
        anomalies.append(record)
    if not anomalies:
        evidence.append(
            f"No spike or drop: no change beyond {Z_ANOMALY:.0f}× the robust spread and {pct(MATERIAL)} of followers."
        )
    confidence = min(1.0, len(intervals) / FULL_INTERVALS)
    return Signal(
        name=NAME, status="judged", score=round(clip(100.0 - penalty), 1), weight=weight,
        confidence=round(confidence, 3), evidence=tuple(evidence),
        flags=tuple(f for f in ("growth_spike_unexplained", "growth_spike_giveaway", "growth_drop") if f in flags),
        details={
            "points": len(points), "intervals": len(intervals), "median_daily_change": round(centre, 2),
            "robust_spread": round(robust, 2), "spread_used": round(scale, 2), "anomalies": anomalies,
            "series": _shown(points, anomalies),
            "thresholds": {"robust_z": Z_ANOMALY, "material_share": MATERIAL, "floor_share": FLOOR_SHARE,
                           "viral_multiple": VIRAL},
        },
    )
