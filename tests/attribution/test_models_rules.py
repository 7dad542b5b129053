"""The rule-based models on crafted touches, worked by hand; their names, versions and parameters."""

from datetime import timedelta
from fractions import Fraction

import pytest

from services.attribution.models import (
    MODEL_NAMES, InsufficientData, InvalidParams, Touch, UnknownModel, credit_order, parameters, parse_models, shares,
)
from tests.attribution.models_helpers import T0, touches

ORDER_AT = T0 + timedelta(days=10)


def test_last_touch_credits_the_latest_touch():
    assert shares(touches("ABC")) == {"C": 1}


def test_last_touch_among_simultaneous_touches_credits_the_one_listed_first():
    # Two codes typed at the same checkout: the first typed wins, as single-touch crediting does.
    both = (Touch("A", "code", ORDER_AT), Touch("B", "code", ORDER_AT))
    assert shares(both, "last_touch") == {"A": 1}


def test_first_touch_credits_the_earliest_and_breaks_ties_by_listing():
    assert shares(touches("ABC"), "first_touch") == {"A": 1}
    both = (Touch("B", "click", T0), Touch("A", "click", T0))
    assert shares(both, "first_touch") == {"B": 1}


def test_linear_gives_each_touch_an_equal_share_and_adds_a_creators_touches():
    assert shares(touches("ABAC"), "linear") == {"A": Fraction(1, 2), "B": Fraction(1, 4), "C": Fraction(1, 4)}


def test_touches_are_read_in_time_order_whatever_order_they_are_listed_in():
    listed = tuple(reversed(touches("ABC")))
    assert shares(listed, "last_touch") == {"C": 1}
    assert shares(listed, "first_touch") == {"A": 1}


def test_time_decay_halves_a_touch_per_half_life():
    # A touch 7 days before the order weighs 2^-1 = 1/2, one at the order 2^0 = 1: shares 1/3, 2/3.
    ts = (Touch("A", "click", ORDER_AT - timedelta(days=7)), Touch("B", "code", ORDER_AT))
    assert shares(ts, "time_decay", placed_at=ORDER_AT) == {"A": Fraction(1, 3), "B": Fraction(2, 3)}


def test_time_decay_half_life_is_configurable():
    # Half-life 1 day: 2 days old weighs 1/4, 1 day old 1/2, at the order 1 → 1/7, 2/7, 4/7.
    ts = tuple(Touch(c, "click", ORDER_AT - timedelta(days=d)) for c, d in (("A", 2), ("B", 1), ("C", 0)))
    got = shares(ts, "time_decay", {"half_life_days": "1"}, placed_at=ORDER_AT)
    assert got == {"A": Fraction(1, 7), "B": Fraction(2, 7), "C": Fraction(4, 7)}


def test_time_decay_of_an_irrational_weight_still_sums_to_exactly_one():
    ts = (Touch("A", "click", ORDER_AT - timedelta(hours=5)), Touch("B", "click", ORDER_AT - timedelta(days=3, minutes=7)))
    got = shares(ts, "time_decay", placed_at=ORDER_AT)
    assert sum(got.values()) == 1
    # 5 h = 5/168 half-lives: 2^(-5/168) = 0.979582; 3 d 7 min = 4327/10080 half-lives:
    # 2^(-4327/10080) = 0.742640; A's share 0.979582 / (0.979582 + 0.742640) = 0.568790.
    assert abs(float(got["A"]) - 0.568790) < 1e-6


def test_time_decay_with_every_weight_below_the_digits_kept_still_gives_the_same_ratios():
    # Half-life 1e-9 days: touches 1 and 2 days old weigh 2^-1e9 and 2^-2e9, both 0 in 40 digits.
    # Counted from the youngest, the older weighs 2^-1e9 relative to it: all to the youngest.
    ts = (Touch("A", "click", ORDER_AT - timedelta(days=2)), Touch("B", "click", ORDER_AT - timedelta(days=1)))
    assert shares(ts, "time_decay", {"half_life_days": "1e-9"}, placed_at=ORDER_AT) == {"B": 1}
    # Ages of many half-lives, but close together: 1,000 and 1,001 half-lives keep the 2:1 ratio.
    far = (Touch("A", "click", ORDER_AT - timedelta(days=1001)), Touch("B", "click", ORDER_AT - timedelta(days=1000)))
    got = shares(far, "time_decay", {"half_life_days": "1"}, placed_at=ORDER_AT)
    assert sum(got.values()) == 1 and abs(got["A"] - Fraction(1, 3)) < Fraction(1, 10**30)


def test_time_decay_needs_the_order_time_and_refuses_a_touch_after_it():
    with pytest.raises(ValueError, match="placed_at"):
        shares(touches("AB"), "time_decay")
    with pytest.raises(ValueError, match="after the order"):
        shares(touches("AB"), "time_decay", placed_at=T0)


def test_position_based_gives_first_and_last_40_and_splits_20_among_the_middle():
    got = shares(touches("ABCD"), "position_based")
    assert got == {"A": Fraction(2, 5), "B": Fraction(1, 10), "C": Fraction(1, 10), "D": Fraction(2, 5)}


def test_position_based_adds_a_creators_first_and_last_shares():
    assert shares(touches("ABA"), "position_based") == {"A": Fraction(4, 5), "B": Fraction(1, 5)}


def test_position_based_with_one_touch_gives_it_everything():
    assert shares(touches("A"), "position_based") == {"A": 1}


def test_position_based_with_two_touches_scales_first_and_last_proportionally():
    assert shares(touches("AB"), "position_based") == {"A": Fraction(1, 2), "B": Fraction(1, 2)}
    got = shares(touches("AB"), "position_based", {"first": "0.3", "last": 0.5})
    assert got == {"A": Fraction(3, 8), "B": Fraction(5, 8)}


def test_position_based_with_simultaneous_touches_still_takes_two_different_ends():
    both = (Touch("A", "code", ORDER_AT), Touch("B", "code", ORDER_AT), Touch("C", "code", ORDER_AT))
    # first: A (earliest, listed first); last: among B and C, the one listed first (B); C is the middle.
    assert shares(both, "position_based") == {"A": Fraction(2, 5), "B": Fraction(2, 5), "C": Fraction(1, 5)}


def test_position_based_leaves_out_middle_creators_with_no_share():
    assert shares(touches("ABC"), "position_based", {"first": "1/2", "last": "1/2"}) == {"A": Fraction(1, 2), "C": Fraction(1, 2)}


def test_an_order_without_touches_is_insufficient_data():
    with pytest.raises(InsufficientData, match="no qualifying touch"):
        shares((), "linear")


def test_an_unknown_model_names_the_valid_ones():
    with pytest.raises(UnknownModel) as err:
        shares(touches("A"), "u_shaped")
    assert isinstance(err.value, ValueError)
    for name in MODEL_NAMES:
        assert name in str(err.value)


def test_a_models_list_is_checked_name_by_name():
    assert parse_models("last_touch, markov,last_touch") == ["last_touch", "markov"]
    with pytest.raises(UnknownModel, match="'lastclick'"):
        parse_models("last_touch,lastclick")
    with pytest.raises(UnknownModel):
        parse_models(" , ")


@pytest.mark.parametrize(("model", "raw", "field"), [
    ("position_based", {"first": "0.7", "last": "0.4"}, "params.first"),
    ("position_based", {"first": "-0.1"}, "params.first"),
    ("position_based", {"middle": "0.2"}, "params.middle"),
    ("time_decay", {"half_life_days": 0}, "params.half_life_days"),
    ("time_decay", {"half_life_days": "soon"}, "params.half_life_days"),
    ("markov", {"order": 0}, "params.order"),
    ("markov", {"order": "²"}, "params.order"),  # a digit to str.isdigit(), not to int()
    ("markov", {"order": "١"}, "params.order"),
    ("markov", {"order": 5}, "params.order"),
    ("shapley", {"value": "revenue"}, "params.value"),
    ("shapley", {"exact_max": 21}, "params.exact_max"),
    ("shapley", {"samples": 10}, "params.samples"),
    ("last_touch", {"window": 7}, "params.window"),
])
def test_invalid_parameters_name_the_field(model, raw, field):
    with pytest.raises(InvalidParams) as err:
        parameters(model, raw)
    assert err.value.field == field


def test_an_order_credit_carries_the_model_its_version_and_parameters():
    credit = credit_order(touches("ABC"), "position_based", {"first": 0.3, "last": "0.3"})
    assert (credit.model, credit.version) == ("position_based", "position_based-v1")
    assert credit.params == {"first": "3/10", "last": "3/10"}
    assert parameters("position_based", credit.params) == parameters("position_based", {"first": "0.3", "last": "0.3"})
    assert credit_order(touches("A")).version == "last_touch-v1"
