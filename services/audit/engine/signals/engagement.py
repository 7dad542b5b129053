"""Engagement rate against peers of the same platform and follower tier.

ER = mean over the posts with a like count of (likes + comments) / followers, followers being the
profile's (else the newest point of the follower series); a post whose comment count is unknown
counts 0 comments. That is the formula of every benchmark used (by followers, not by reach or
views: those differ several-fold, ../REFERENCE.md).

The peers are the row of the versioned benchmark table (benchmarks/<BENCHMARKS_VERSION>.csv) for
the platform and tier; tiers are discovery's (Later x Fohr 2021): nano < 10k <= micro < 100k <=
mid < 500k <= macro < 1M <= mega. Each row carries a reference figure and the range the published
figures span for that band (sources disagree up to 5x: HypeAuditor 2018 vs 2026). Inside the
range the score is 100; outside it falls on a log scale, to 50 at a third of the low bound or
three times the high bound (where the flags fire) and 0 at a ninth or nine times. Too low means
followers who never engage (bought or inactive); suspiciously high means bought likes or pods.
"""

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from services.audit.engine.scoring import BENCHMARKS_VERSION, WEIGHTS
from services.audit.engine.signals.common import clip, count, insufficient, times
from services.audit.engine.types import FollowerPoint, Post, Profile, Signal

NAME = "engagement_rate"
BENCHMARK_FILE = Path(__file__).resolve().parent.parent / "benchmarks" / f"{BENCHMARKS_VERSION}.csv"
MIN_POSTS = 3
FLAG_FACTOR = 3.0  # flag below low / 3 and above high x 3
ZERO_FACTOR = 9.0  # score 0 at low / 9 and at high x 9
FULL_POSTS = 12  # confidence reaches its ceiling at 12 posts (about a month of posting)
STATUS_CONFIDENCE = {"published": 1.0, "nearest": 0.6}  # how far the benchmark itself is trusted

# Discovery's tiers (services/discovery/creator/models.py TIER_SQL), lower bounds.
TIERS: tuple[tuple[str, int], ...] = (
    ("nano", 0), ("micro", 10_000), ("mid", 100_000), ("macro", 500_000), ("mega", 1_000_000),
)


@dataclass(frozen=True, slots=True)
class Benchmark:
    platform: str
    tier: str
    followers_min: int
    followers_max: int | None
    reference: float | None  # fractions (the file holds percents)
    low: float | None
    high: float | None
    status: str  # published | nearest | none
    source: str
    mapping: str


def tier_of(followers: int) -> str:
    name = TIERS[0][0]
    for tier, floor in TIERS:
        if followers >= floor:
            name = tier
    return name


@cache
def benchmarks() -> tuple[Benchmark, ...]:
    """The table, read once (a file shipped with the code, not I/O on the audit's path)."""
    rows = []
    with BENCHMARK_FILE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            def fraction(key: str) -> float | None:
                return float(row[key]) / 100.0 if row[key] else None
            rows.append(Benchmark(
                platform=row["platform"], tier=row["tier"], followers_min=int(row["followers_min"]),
                followers_max=int(row["followers_max"]) if row["followers_max"] else None,
                reference=fraction("er_reference_pct"), low=fraction("er_low_pct"),
                high=fraction("er_high_pct"), status=row["status"], source=row["source"],
                mapping=row["mapping"],
            ))
    return tuple(rows)


def benchmark_for(platform: str, followers: int) -> Benchmark | None:
    tier = tier_of(followers)
    for row in benchmarks():
        if row.platform == platform and row.tier in (tier, "*"):
            return row
    return None


def engagement_rate(posts: Sequence[Post], followers: int) -> tuple[float, int]:
    """(ER as a fraction, posts used): mean of (likes + comments) over posts with a like count,
    divided by followers."""
    used = [p for p in posts if p.likes is not None]
    if not used or followers <= 0:
        return 0.0, len(used)
    interactions = sum(p.likes + (p.comments or 0) for p in used)
    return interactions / len(used) / followers, len(used)


def _score(er: float, low: float, high: float) -> float:
    if er <= 0:
        return 0.0
    if er < low:
        return clip(100.0 * (1.0 - math.log(low / er) / math.log(ZERO_FACTOR)))
    if er > high:
        return clip(100.0 * (1.0 - math.log(er / high) / math.log(ZERO_FACTOR)))
    return 100.0


def _pct(x: float) -> str:
    return f"{x * 100:.2f} %"


def engagement_signal(profile: Profile, posts: Sequence[Post], series: Sequence[FollowerPoint] = ()) -> Signal:
    weight = WEIGHTS[NAME]
    followers, followers_from = profile.followers, "the profile"
    if not followers and series:
        newest = max(series, key=lambda p: p.observed_at)
        followers, followers_from = newest.followers, f"the follower series on {newest.observed_at.date()}"
    if not followers or followers <= 0:
        return insufficient(NAME, weight, ("follower count",))
    er, n = engagement_rate(posts, followers)
    if n < MIN_POSTS:
        return insufficient(
            NAME, weight, ("posts with like counts",),
            (f"Insufficient data: {n} posts with a like count; at least {MIN_POSTS} are needed.",),
            posts_with_likes=n, min_posts=MIN_POSTS,
        )
    tier = tier_of(followers)
    formula = "(likes + comments) / followers, mean over posts"
    measured = (
        f"Engagement rate {_pct(er)} ({formula}: {n} posts, {count(followers)} followers from {followers_from})."
    )
    details = {
        "engagement_rate": round(er, 6), "formula": formula, "posts": n, "followers": followers,
        "platform": profile.platform, "tier": tier, "benchmarks_version": BENCHMARKS_VERSION,
    }
    row = benchmark_for(profile.platform, followers)
    if row is None or row.status == "none" or row.reference is None:
        return insufficient(
            NAME, weight, (f"engagement benchmark for {profile.platform}",),
            (measured, f"Insufficient data: no published engagement benchmark for {profile.platform} "
             f"({BENCHMARKS_VERSION}), so it is not compared with peers."),
            **details,
        )
    low, high = row.low, row.high
    ratio = er / row.reference
    score = _score(er, low, high)
    flags: list[str] = []
    spread = f"published range {_pct(low)}-{_pct(high)}" if high > low else "a single published figure"
    peers = (
        f"Peers ({profile.platform}, {tier}, {BENCHMARKS_VERSION}): typical {_pct(row.reference)}, {spread}"
        + (" (nearest published figures: no figure for this band)" if row.status == "nearest" else "")
        + f"; this creator is at {times(ratio)} the typical rate."
    )
    evidence = [measured, peers]
    if er < low / FLAG_FACTOR:
        flags.append("engagement_rate_low")
        evidence.append(
            f"Engagement is below a third of the lowest published figure ({_pct(low / FLAG_FACTOR)}): "
            "many followers never engage, as bought or inactive followers do not."
        )
    elif er > high * FLAG_FACTOR:
        flags.append("engagement_rate_suspiciously_high")
        evidence.append(
            f"Engagement is above three times the highest published figure ({_pct(high * FLAG_FACTOR)}): "
            "likely bought likes or engagement pods, unless one post went viral."
        )
    coverage = min(1.0, n / FULL_POSTS)
    confidence = coverage * STATUS_CONFIDENCE.get(row.status, 0.0)
    details.update({
        "benchmark": {
            "reference": row.reference, "low": low, "high": high, "status": row.status,
            "source": row.source, "mapping": row.mapping,
        },
        "ratio_to_reference": round(ratio, 4),
        "flag_below": round(low / FLAG_FACTOR, 6), "flag_above": round(high * FLAG_FACTOR, 6),
    })
    return Signal(
        name=NAME, status="judged", score=round(score, 1), weight=weight, confidence=round(confidence, 3),
        evidence=tuple(evidence), flags=tuple(flags), details=details,
    )
