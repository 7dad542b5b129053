"""Crediting keeps a split's shares to 18-digit denominators (crediting/split.py `bounded`):
time decay under a short half-life gives exact fractions of thousands of digits, which could not
be stored or printed; the bounded shares still sum to exactly 1."""

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from services.attribution.crediting.split import SHARE_DENOMINATOR, bounded
from services.attribution.models import Touch, credit_order, split_minor

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_small_fractions_are_kept_exactly():
    shares = {"a": Fraction(1, 3), "b": Fraction(2, 3)}
    assert bounded(shares) is shares


def test_an_old_touch_under_a_short_half_life_is_bounded_and_still_sums_to_one():
    touches = [Touch("a", "click", NOW - timedelta(days=20)), Touch("b", "click", NOW - timedelta(hours=5)),
               Touch("c", "code", NOW)]
    exact = credit_order(touches, "time_decay", {"half_life_days": "0.5"}, placed_at=NOW).shares
    assert max(s.denominator for s in exact.values()) > SHARE_DENOMINATOR
    kept = bounded(exact)
    assert sum(kept.values()) == 1 and all(s.denominator <= SHARE_DENOMINATOR ** 3 for s in kept.values())
    assert all(abs(kept[c] - exact[c]) < Fraction(1, 10**15) for c in kept)
    assert split_minor(10**12, kept) == split_minor(10**12, exact)
    assert all(len(str(s)) < 200 for s in kept.values())
