"""Splitting a commission by credit shares: to the minor unit, nothing created or lost."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.attribution.models import split_minor


def test_remainders_go_to_the_largest_fractional_parts():
    # 1000 × 1/3 = 333.33 each: 999 handed out, 1 left, tie on remainder and share → smallest id.
    assert split_minor(1000, {"b": Fraction(1, 3), "a": Fraction(1, 3), "c": Fraction(1, 3)}) == {"a": 334, "b": 333, "c": 333}
    # 10 × (0.45, 0.35, 0.2) = 4.5, 3.5, 2: one unit left, remainders 0.5 tie → larger share (x).
    assert split_minor(10, {"x": Fraction(9, 20), "y": Fraction(7, 20), "z": Fraction(1, 5)}) == {"x": 5, "y": 3, "z": 2}


def test_a_clawback_takes_back_what_the_commission_gave():
    s = {"a": Fraction(1, 3), "b": Fraction(2, 3)}
    assert split_minor(-1001, s) == {c: -v for c, v in split_minor(1001, s).items()}


def test_shares_need_not_be_normalised_and_zero_shares_get_nothing():
    assert split_minor(7, {"a": 2, "b": 1, "c": 0}) == {"a": 5, "b": 2, "c": 0}


def test_refuses_negative_or_empty_shares_and_non_integer_amounts():
    with pytest.raises(ValueError, match="negative"):
        split_minor(10, {"a": Fraction(-1, 2), "b": Fraction(3, 2)})
    with pytest.raises(ValueError, match="no creator"):
        split_minor(10, {"a": 0})
    with pytest.raises(ValueError, match="integer"):
        split_minor(10.5, {"a": 1})  # type: ignore[arg-type]


share_maps = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=3),
    st.fractions(min_value=0, max_value=1, max_denominator=10**9),
    min_size=1, max_size=12,
).filter(lambda d: sum(d.values()) > 0)


@given(st.integers(min_value=-10**15, max_value=10**15), share_maps)
def test_parts_sum_to_the_total_each_within_a_unit_of_its_exact_quota(total, shares):
    parts = split_minor(total, shares)
    assert sum(parts.values()) == total
    assert set(parts) == set(shares)
    whole = sum(shares.values())
    for c, part in parts.items():
        assert abs(part - total * shares[c] / whole) < 1


@given(st.integers(min_value=0, max_value=10**12), share_maps)
def test_a_split_is_symmetric_and_deterministic(total, shares):
    parts = split_minor(total, shares)
    assert split_minor(-total, shares) == {c: -v for c, v in parts.items()}
    assert split_minor(total, dict(reversed(list(shares.items())))) == parts
