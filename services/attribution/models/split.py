"""An amount in minor units split by credit shares, to the minor unit, with nothing created or lost.

Largest remainder (Hamilton's method): each creator first gets the whole minor units of its exact
quota (amount × share, computed as a fraction); the units left over — fewer than the number of
creators — go one each to the largest fractional parts. Ties go to the larger share, then to the
smaller creator id, so the same input always splits the same way. A negative amount (a
clawback) is split as its absolute value and negated, so a refund takes back from each creator
exactly what the same positive amount would have given it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction


def split_minor(total_minor: int, shares: Mapping[str, Fraction | Decimal | int]) -> dict[str, int]:
    """`total_minor` split over the creators of `shares` (non-negative, normalised here, so they
    need not sum to exactly 1); the parts sum to `total_minor` exactly."""
    if isinstance(total_minor, bool) or not isinstance(total_minor, int):
        raise ValueError("the amount to split is an integer of minor units")
    exact = {c: Fraction(s) for c, s in shares.items()}
    if any(s < 0 for s in exact.values()):
        raise ValueError("credit shares are never negative")
    whole = sum(exact.values(), Fraction(0))
    if not whole:
        raise ValueError("no creator has a share to split the amount by")
    sign, amount = (-1, -total_minor) if total_minor < 0 else (1, total_minor)
    quotas = {c: amount * s / whole for c, s in exact.items()}
    parts = {c: q.numerator // q.denominator for c, q in quotas.items()}
    left = amount - sum(parts.values())
    for c in sorted(quotas, key=lambda c: (-(quotas[c] - parts[c]), -exact[c], c))[:left]:
        parts[c] += 1
    return {c: sign * p for c, p in parts.items()}
