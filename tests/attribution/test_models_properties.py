"""Invariants of every model, on generated orders and path sets (hypothesis): one order's shares
sum to exactly 1, none is negative, only creators on the order's path get credit, and the same
input always gives the same output."""

from datetime import timedelta
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.attribution.models import MODEL_NAMES, MODELS, Path, Touch, compare, credit_order, fit, split_minor
from tests.attribution.models_helpers import T0

ORDER_AT = T0 + timedelta(days=60)
RULE_MODELS = [m for m in MODEL_NAMES if not MODELS[m].data_driven]

touch_lists = st.lists(
    st.builds(Touch, st.sampled_from("ABCDEF"), st.sampled_from(["code", "click"]),
              st.integers(min_value=0, max_value=60 * 24).map(lambda h: ORDER_AT - timedelta(minutes=h * 37))),
    min_size=1, max_size=8,
)
position_params = st.tuples(st.fractions(0, 1, max_denominator=20), st.fractions(0, 1, max_denominator=20)).filter(
    lambda fl: fl[0] + fl[1] <= 1).map(lambda fl: {"first": str(fl[0]), "last": str(fl[1])})
params_for = {
    "last_touch": st.just({}), "first_touch": st.just({}), "linear": st.just({}),
    "time_decay": st.decimals(min_value="0.01", max_value="60", places=2).map(lambda d: {"half_life_days": str(d)}),
    "position_based": position_params,
}


def check_order_shares(shares: dict[str, Fraction], touches) -> None:
    assert sum(shares.values()) == 1
    assert all(isinstance(s, Fraction) and s > 0 for s in shares.values())
    assert set(shares) <= {t.creator_id for t in touches}


@given(st.sampled_from(RULE_MODELS).flatmap(lambda m: st.tuples(st.just(m), params_for[m])), touch_lists)
def test_rule_based_shares_of_an_order_sum_to_exactly_one(model_params, touches):
    model, params = model_params
    credit = credit_order(touches, model, params, placed_at=ORDER_AT)
    check_order_shares(credit.shares, touches)
    assert credit_order(touches, model, params, placed_at=ORDER_AT) == credit


paths = st.lists(
    st.tuples(st.lists(st.sampled_from("ABCDEFG"), min_size=1, max_size=6), st.booleans(),
              st.integers(min_value=1, max_value=10**6)),
    min_size=1, max_size=40,
).filter(lambda ps: any(conv for _, conv, _ in ps)).map(lambda ps: [
    Path(tuple(Touch(c, "click", T0 + timedelta(hours=i)) for i, c in enumerate(cs)), conv, value if conv else 0)
    for cs, conv, value in ps
])
data_params = st.sampled_from([
    ("markov", {}), ("markov", {"order": 2}), ("markov", {"order": 3}),
    ("shapley", {}), ("shapley", {"value": "value"}), ("shapley", {"exact_max": 2, "samples": 200, "seed": 5}),
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data_params, paths)
def test_data_driven_shares_of_every_order_sum_to_exactly_one(model_params, path_set):
    model, params = model_params
    fitted = fit(path_set, model, params)
    assert sum(fitted.shares.values()) == 1
    assert all(s > 0 for s in fitted.shares.values())
    for p in path_set:
        if p.converted:
            check_order_shares(credit_order(p.touches, model, fitted=fitted).shares, p.touches)
    assert fit(path_set, model, params) == fitted


@settings(max_examples=40, deadline=None)
@given(paths, st.integers(min_value=-10**9, max_value=10**9))
def test_every_model_credits_each_converting_path_once_and_splits_its_commission_to_the_unit(path_set, commission):
    results = compare(path_set, list(MODEL_NAMES))
    converting = [p for p in path_set if p.converted]
    for model, result in results.items():
        assert result.converting_paths == len(converting)
        assert abs(sum(map(Fraction, result.orders.values())) - len(converting)) < Fraction(1, 10**30)
        assert abs(sum(map(Fraction, result.value_minor.values())) - sum(p.value_minor for p in converting)) < Fraction(1, 10**20)
        for p in converting[:3]:
            shares = credit_order(p.touches, model, placed_at=p.order_time, fitted=result).shares
            assert sum(split_minor(commission, shares).values()) == commission
