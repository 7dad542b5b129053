"""The rule-based models: one order's touches → each creator's share of its credit.

Every function takes the order's qualifying touches as given (their list order is the tie-break:
the first code typed, the click in the landing URL come first) and returns exact `Fraction`s
that sum to exactly 1; a creator with several touches gets the sum of their shares, and a
creator whose share is zero (a middle touch when first and last take everything) is left out.

Ties in time are broken the way single-touch crediting breaks them (`crediting/credit.py`): the
touch listed first wins. So `last_touch` takes the latest touch and, among simultaneous latest
ones, the one listed first; `first_touch` the earliest and, among simultaneous earliest ones,
the one listed first; `position_based` takes its first touch as `first_touch` does and its last
touch as `last_touch` does among the *other* touches, so with two or more touches they are
always two different touches.

Time decay weighs a touch 2^(−Δt / half-life), Δt from the touch to the order. The power is
computed in `decimal` at 40 significant digits (correctly rounded, so the same on every machine,
unlike a float `pow` that depends on the C library) and normalised exactly as fractions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Context, Decimal
from fractions import Fraction

from services.attribution.models.paths import Touch
from services.attribution.models.params import PositionBasedParams, TimeDecayParams

_DECAY = Context(prec=40)
_DAY_US = 86_400_000_000


def _latest(indexed: Sequence[tuple[int, Touch]]) -> tuple[int, Touch]:
    return max(indexed, key=lambda it: (it[1].at, -it[0]))


def _earliest(indexed: Sequence[tuple[int, Touch]]) -> tuple[int, Touch]:
    return min(indexed, key=lambda it: (it[1].at, it[0]))


def _add(weights: Sequence[tuple[Touch, Fraction]]) -> dict[str, Fraction]:
    out: dict[str, Fraction] = defaultdict(Fraction)
    for touch, weight in weights:
        out[touch.creator_id] += weight
    return {creator: share for creator, share in out.items() if share}


def last_touch(touches: Sequence[Touch]) -> dict[str, Fraction]:
    return {_latest(list(enumerate(touches)))[1].creator_id: Fraction(1)}


def first_touch(touches: Sequence[Touch]) -> dict[str, Fraction]:
    return {_earliest(list(enumerate(touches)))[1].creator_id: Fraction(1)}


def linear(touches: Sequence[Touch]) -> dict[str, Fraction]:
    return _add([(t, Fraction(1, len(touches))) for t in touches])


def decay_weight(age: timedelta, half_life_days: Decimal) -> Fraction:
    """2^(−age / half-life), exactly the 40-digit decimal value, as a fraction."""
    age_us = age // timedelta(microseconds=1)
    exponent = _DECAY.divide(Decimal(-age_us), _DECAY.multiply(half_life_days, Decimal(_DAY_US)))
    return Fraction(_DECAY.power(Decimal(2), exponent))


def time_decay(touches: Sequence[Touch], placed_at: datetime, params: TimeDecayParams) -> dict[str, Fraction]:
    for t in touches:
        if t.at > placed_at:
            raise ValueError(f"a touch by {t.creator_id} at {t.at.isoformat()} came after the order ({placed_at.isoformat()})")
    weights = [(t, decay_weight(placed_at - t.at, params.half_life_days)) for t in touches]
    total = sum((w for _, w in weights), Fraction(0))
    if total == 0:
        # Every weight underflowed the 40 digits (ages of many half-lives: a tiny half-life, or
        # touches long before the order): the same ratios, 2^(-(age - youngest)/half-life),
        # from ages counted from the youngest touch, whose weight is then exactly 1.
        youngest = min(placed_at - t.at for t in touches)
        weights = [(t, decay_weight(placed_at - t.at - youngest, params.half_life_days)) for t in touches]
        total = sum((w for _, w in weights), Fraction(0))
    return _add([(t, w / total) for t, w in weights])


def position_based(touches: Sequence[Touch], params: PositionBasedParams) -> dict[str, Fraction]:
    """First and last touches get their shares, the middle ones split the rest equally. One
    touch: all of it. Two touches: the first and last shares, scaled up proportionally to fill the
    whole (40/40 → 50/50, 30/50 → 37.5/62.5); both zero → 50/50."""
    indexed = list(enumerate(touches))
    if len(indexed) == 1:
        return {touches[0].creator_id: Fraction(1)}
    first = _earliest(indexed)
    rest = [it for it in indexed if it[0] != first[0]]
    last = _latest(rest)
    middle = [it[1] for it in rest if it[0] != last[0]]
    if not middle:
        ends = params.first + params.last
        f, l = (params.first / ends, params.last / ends) if ends else (Fraction(1, 2), Fraction(1, 2))
        return _add([(first[1], f), (last[1], l)])
    each = params.middle / len(middle)
    return _add([(first[1], params.first), (last[1], params.last)] + [(t, each) for t in middle])
