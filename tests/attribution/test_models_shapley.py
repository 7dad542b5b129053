"""Shapley-value attribution against marginal contributions worked out by hand, exact against the
closed form, and sampled within its stated error of the exact value."""

from collections import defaultdict
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.attribution.models import InsufficientData, ShapleyParams, credit_order, fit
from services.attribution.models import shapley
from tests.attribution.models_helpers import path, touches

# Converting A+B, B, C, A+B+C; A+C did not convert.
# v(∅)=0, v(A)=0, v(B)=1, v(C)=1, v(AB)=2 (AB, B), v(AC)=1 (C), v(BC)=2 (B, C), v(ABC)=4.
HAND = [path("AB", True), path("B", True), path("AC", False), path("C", True), path("ABC", True)]


def test_three_creators_by_their_marginal_contributions():
    # A's marginal contribution in each of the 6 joining orders:
    #   ABC: v(A)−v(∅)=0   ACB: 0   BAC: v(AB)−v(B)=1   BCA: v(ABC)−v(BC)=2   CAB: v(AC)−v(C)=0
    #   CBA: v(ABC)−v(BC)=2                           → φ_A = 5/6
    # B: ABC: v(AB)−v(A)=2  ACB: v(ABC)−v(AC)=3  BAC: 1  BCA: 1  CAB: v(ABC)−v(AC)=3
    #   CBA: v(BC)−v(C)=1                             → φ_B = 11/6
    # C: ABC: 4−2=2  ACB: v(AC)−v(A)=1  BAC: 4−2=2  BCA: v(BC)−v(B)=1  CAB: 1  CBA: 1 → φ_C = 8/6
    # φ_A + φ_B + φ_C = 4 = v(ABC): every conversion handed out, none invented.
    result = shapley.fit(HAND)
    assert result.method == "exact"
    assert result.values == pytest.approx({"A": 5 / 6, "B": 11 / 6, "C": 4 / 3})
    assert result.shares == {"A": Fraction(5, 24), "B": Fraction(11, 24), "C": Fraction(1, 3)}


def test_two_creators_weighted_by_order_value():
    # A+B converting for 90, B alone for 30, A alone not converting.
    # v(A)=0, v(B)=30, v(AB)=120. Orders AB: A gets 0, B 120; BA: B 30, A 90.
    # φ_A = 45, φ_B = 75 → shares 3/8, 5/8.
    paths = [path("AB", True, 90), path("B", True, 30), path("A", False)]
    result = shapley.fit(paths, ShapleyParams(value="value"))
    assert result.total == 120
    assert result.values == pytest.approx({"A": 45.0, "B": 75.0})
    assert result.shares == {"A": Fraction(3, 8), "B": Fraction(5, 8)}


def test_a_creator_only_on_non_converting_paths_is_a_null_player():
    result = shapley.fit(HAND + [path("D", False), path("DA", False)])
    assert "D" not in result.values and "D" not in result.shares
    assert result.shares == shapley.fit(HAND).shares


def closed_form(paths) -> dict[str, Fraction]:
    """Zhao et al. 2018's simplified Shapley value: each converting path's weight shared equally
    among its distinct creators."""
    out: dict[str, Fraction] = defaultdict(Fraction)
    for p in paths:
        if p.converted:
            for c in p.creator_set:
                out[c] += Fraction(1, len(p.creator_set))
    return dict(out)


path_sets = st.lists(
    st.tuples(st.text(alphabet="ABCDEFG", min_size=1, max_size=5), st.booleans()),
    min_size=1, max_size=25,
).filter(lambda ps: any(conv for _, conv in ps))


@settings(max_examples=60, deadline=None)
@given(path_sets)
def test_exact_enumeration_equals_the_closed_form(raw):
    paths = [path(cs, conv) for cs, conv in raw]
    groups = shapley.coalitions(paths, by_value=False)
    players = sorted({c for g in groups for c in g})
    assert shapley.exact(groups, players) == closed_form(paths)


def ten_creator_paths():
    # Deterministic, varied: path i touches creators i mod 10, i*3 mod 10, i*7 mod 4, ...;
    # about half convert.
    names = "ABCDEFGHIJ"
    out = []
    for i in range(200):
        length = 1 + i % 4
        cs = "".join(names[(i * k * 7 + k) % 10] for k in range(1, length + 1))
        out.append(path(cs, i % 2 == 0 or i % 7 == 0))
    return out


def test_sampled_values_are_within_their_stated_error_of_the_exact_ones():
    paths = ten_creator_paths()
    exact = shapley.fit(paths)
    sampled = shapley.fit(paths, ShapleyParams(exact_max=5, samples=3000, seed=7))
    assert (exact.method, sampled.method, exact.players) == ("exact", "sampled", 10)
    for c, v in exact.values.items():
        se = sampled.standard_errors[c]
        # 4 standard errors: a 1-in-15,000 miss per creator if the errors are stated right.
        assert abs(sampled.values[c] - v) <= 4 * se + 1e-9, (c, sampled.values[c], v, se)
        low, high = sampled.interval(c)
        assert low <= sampled.values[c] <= high
    assert any(se > 0 for se in sampled.standard_errors.values())
    assert sum(sampled.values.values()) == pytest.approx(exact.total)
    assert sum(sampled.shares.values()) == 1


def test_more_samples_shrink_the_stated_error():
    paths = ten_creator_paths()
    few = shapley.fit(paths, ShapleyParams(exact_max=5, samples=400))
    many = shapley.fit(paths, ShapleyParams(exact_max=5, samples=6400))
    for c, se in many.standard_errors.items():
        if se:
            assert se < few.standard_errors[c]


def test_sampling_is_reproducible_with_its_seed():
    paths = ten_creator_paths()
    one = shapley.fit(paths, ShapleyParams(exact_max=5, samples=500, seed=3))
    again = shapley.fit(paths, ShapleyParams(exact_max=5, samples=500, seed=3))
    other = shapley.fit(paths, ShapleyParams(exact_max=5, samples=500, seed=4))
    assert one == again
    assert one.values != other.values


def test_an_orders_shapley_credit_is_restricted_to_its_creators():
    fitted = fit(HAND, "shapley")
    # Shares A 5/24, B 11/24, C 8/24; an order touched by A and C: A 5/13, C 8/13.
    credit = credit_order(touches("CA"), "shapley", fitted=fitted)
    assert credit.shares == {"A": Fraction(5, 13), "C": Fraction(8, 13)}
    assert credit.version == "shapley-v1"
    assert credit.params == {"value": "conversions", "exact_max": 15, "samples": 2000, "seed": 0}


def test_no_paths_no_conversion_or_no_value_is_insufficient_data():
    with pytest.raises(InsufficientData, match="no paths"):
        shapley.fit([])
    with pytest.raises(InsufficientData, match="no converting path"):
        shapley.fit([path("AB", False)])
    with pytest.raises(InsufficientData, match="carry no value"):
        shapley.fit([path("AB", True, 0)], ShapleyParams(value="value"))


def test_exact_values_stay_exact_past_64_bit_sums():
    # 12 creators, order values near 10^15 minor units: 2^11 coalition gains of ~10^15 each pass
    # int64 when summed per size; the enumeration switches to Python integers.
    names = "ABCDEFGHIJKL"
    paths = [path(names[i] + names[(i * 5 + 1) % 12], True, 10**15 - i) for i in range(12)]
    paths += [path(names[i], True, 999_999_999_999_989 + i) for i in range(12)]
    groups = shapley.coalitions(paths, by_value=True)
    players = sorted({c for g in groups for c in g})
    expected: dict[str, Fraction] = defaultdict(Fraction)
    for members, w in groups.items():
        for c in members:
            expected[c] += Fraction(w, len(members))
    assert shapley.exact(groups, players) == expected
