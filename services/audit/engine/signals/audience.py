"""Audience quality: who follows the creator, judged on the follower sample.

Audience types are HypeAuditor's public definitions (../REFERENCE.md "Audience types";
help.hypeauditor.com 3192772, 2221742, 2221731), applied by the follower model in this order:
mass follower (follows > 1,500), influencer (> 5,000 followers), suspicious, real. Audience
quality is the share of real people + influencers; reachability the share of followers who
follow fewer than 1,500 accounts (they can still see a given post). The score is the audience
quality share x 100; flags fire only when the whole 95 % interval is below the line, so a small
sample never condemns a creator on noise.
"""

from collections.abc import Sequence

from services.audit.engine.scoring import WEIGHTS
from services.audit.engine.signals.common import (
    count, insufficient, pct, share_confidence, wilson,
)
from services.audit.engine.types import AUDIENCE_TYPES, MASS_FOLLOWING, FollowerModel, FollowerProfile, Signal

NAME = "audience_quality"
MIN_SAMPLE = 10  # below this the 95 % interval spans more than +-30 points: not judged
LOW_QUALITY = 0.50  # flag when the interval's upper bound is below: most of the audience is not real
LOW_REACH = 0.50  # flag when the interval's upper bound is below: most followers follow >= 1,500


_FIELDS = tuple(FollowerProfile.__dataclass_fields__)


def audience_signal(followers: Sequence[FollowerProfile], model: FollowerModel) -> Signal:
    weight = WEIGHTS[NAME]
    # A follower of whom nothing is known (every field empty) says nothing about the audience:
    # the model would judge it on imputed values alone. It is left out of the sample.
    followers = [f for f in followers if any(getattr(f, name) is not None for name in _FIELDS)]
    n = len(followers)
    if n < MIN_SAMPLE:
        return insufficient(
            NAME, weight, ("follower sample",),
            (f"Insufficient data: the follower sample has {n} accounts; at least {MIN_SAMPLE} are needed.",),
            sample=n, min_sample=MIN_SAMPLE,
        )
    types = model.audience_types(followers)
    counts = {t: 0 for t in AUDIENCE_TYPES}
    for t in types:
        counts[t] += 1
    good = counts["real"] + counts["influencer"]
    share = good / n
    low, high = wilson(good, n)
    known = [f.following_count for f in followers if f.following_count is not None]
    reachable = sum(1 for f in known if f < MASS_FOLLOWING)
    reach = reachable / len(known) if known else None
    reach_low, reach_high = wilson(reachable, len(known)) if known else (None, None)

    evidence = [
        f"{pct(share)} of a sample of {count(n)} followers are real people or influencers "
        f"(95 % interval {pct(low)}-{pct(high)}).",
        "Sample: " + ", ".join(f"{count(counts[t])} {t.replace('_', ' ')}" for t in AUDIENCE_TYPES) + ".",
    ]
    if reach is None:
        evidence.append("Reachability unknown: no sampled follower has a following count.")
    else:
        evidence.append(
            f"Reachability {pct(reach)}: {count(reachable)} of {count(len(known))} followers with a known "
            f"following count follow fewer than {MASS_FOLLOWING:,} accounts."
        )
    flags = []
    if high < LOW_QUALITY:
        flags.append("audience_low_quality")
        evidence.append(f"Even the upper end of the interval ({pct(high)}) is below {pct(LOW_QUALITY, 0)}.")
    if reach_high is not None and reach_high < LOW_REACH:
        flags.append("audience_low_reachability")
    return Signal(
        name=NAME, status="judged", score=round(100.0 * share, 1), weight=weight,
        confidence=round(share_confidence(n), 3), evidence=tuple(evidence), flags=tuple(flags),
        details={
            "sample": n, "types": counts, "quality_share": round(share, 4),
            "quality_interval": [round(low, 4), round(high, 4)],
            "reachability": None if reach is None else round(reach, 4),
            "reachability_interval": None if reach is None else [round(reach_low, 4), round(reach_high, 4)],
            "following_known": len(known),
        },
    )
