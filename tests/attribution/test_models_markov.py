"""The Markov removal-effect model against removal effects worked out by hand on small path sets.

Notation in the comments: x_S is the probability of eventually converting from state S; the
chain's conversion probability is x_start.
"""

import random
from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.attribution.models import InsufficientData, credit_order, fit, shares
from services.attribution.models import Path, Touch, markov
from tests.attribution.models_helpers import T0, path, touches


def test_the_classic_two_creator_example():
    # Paths: A → B → conversion, A → null, B → conversion.
    # Transitions: start→A 2/3, start→B 1/3; A→B 1/2, A→null 1/2; B→conversion 2/2 = 1.
    # Full chain: x_B = 1, x_A = 1/2·x_B = 1/2, x_start = 2/3·1/2 + 1/3·1 = 2/3 (2 orders in 3 paths).
    # Without A (start→A goes to null): x_start = 1/3·1 = 1/3 → removal effect 1 − (1/3)/(2/3) = 1/2.
    # Without B: A→B goes to null, x_A = 0, x_start = 0 → removal effect 1.
    # Shares: A = (1/2)/(3/2) = 1/3, B = 1/(3/2) = 2/3.
    result = markov.fit([path("AB", True), path("A", False), path("B", True)])
    assert result.conversion_probability == pytest.approx(2 / 3)
    assert result.removal_effects == pytest.approx({"A": 0.5, "B": 1.0})
    assert result.shares == {"A": Fraction(1, 3), "B": Fraction(2, 3)}


def test_a_return_visit_is_solved_as_a_linear_system():
    # Paths: A → B → A → conversion, B → null, C → conversion.
    # Transitions: start→A, start→B, start→C 1/3 each; A→B 1/2, A→conversion 1/2;
    # B→A 1/2, B→null 1/2; C→conversion 1.
    # x_A = 1/2 + 1/2·x_B and x_B = 1/2·x_A → x_A = 2/3, x_B = 1/3, x_C = 1;
    # x_start = 1/3·(2/3 + 1/3 + 1) = 2/3.
    # Without A: x_B = 0 → x_start = 1/3 → effect 1/2.
    # Without B: x_A = 1/2 → x_start = 1/3·(1/2 + 1) = 1/2 → effect 1 − (1/2)/(2/3) = 1/4.
    # Without C: x_start = 1/3·(2/3 + 1/3) = 1/3 → effect 1/2.
    # Sum 5/4: shares A 2/5, B 1/5, C 2/5.
    result = markov.fit([path("ABA", True), path("B", False), path("C", True)])
    assert result.removal_effects == pytest.approx({"A": 0.5, "B": 0.25, "C": 0.5})
    assert result.shares == {"A": Fraction(2, 5), "B": Fraction(1, 5), "C": Fraction(2, 5)}


def test_second_order_tells_apart_which_creator_came_first():
    # Paths: A → B → conversion, B → A → null.
    # First order: start→A 1/2, start→B 1/2; A→B 1/2, A→null 1/2; B→conversion 1/2, B→A 1/2.
    # x_A = 1/2·x_B, x_B = 1/2 + 1/2·x_A → x_B = 2/3, x_A = 1/3, x_start = 1/2.
    # Without A: x_B = 1/2, x_start = 1/4 → effect 1/2. Without B: x_start = 0 → effect 1.
    # Shares 1/3 and 2/3: B looks twice as useful, because first order forgets that B converted
    # only after A.
    paths = [path("AB", True), path("BA", False)]
    assert markov.fit(paths, 1).shares == {"A": Fraction(1, 3), "B": Fraction(2, 3)}
    # Second order: states (A), (B), (A,B), (B,A). start→(A) 1/2 → (A,B) → conversion;
    # start→(B) 1/2 → (B,A) → null. x_start = 1/2.
    # Without A: (A), (A,B), (B,A) go; (B) leads only to null → x_start = 0 → effect 1.
    # Without B: (B), (A,B), (B,A) go; (A) leads only to null → effect 1. Shares 1/2 each.
    second = markov.fit(paths, 2)
    assert second.states == 4
    assert second.shares == {"A": Fraction(1, 2), "B": Fraction(1, 2)}


def test_first_order_removal_effects_ignore_repeated_touches_in_a_row():
    once = markov.fit([path("AB", True), path("A", False), path("B", True)])
    repeated = markov.fit([path("AAB", True), path("AA", False), path("BBB", True)])
    assert repeated.shares == once.shares


def test_a_creator_that_never_leads_toward_an_order_has_no_removal_effect():
    result = markov.fit([path("AB", True), path("C", False), path("CD", False)])
    assert result.removal_effects["C"] == 0 and result.removal_effects["D"] == 0
    assert set(result.shares) == {"A", "B"}


def test_a_creator_on_non_converting_paths_that_lead_to_converting_creators_has_an_effect():
    # Paths: A → conversion, C → A → null. start→A 1/2, start→C 1/2; A→conversion 1/2,
    # A→null 1/2; C→A 1. x_A = 1/2, x_C = 1/2, x_start = 1/2.
    # Without C: x_start = 1/2·1/2 = 1/4 → effect 1/2. Without A: 0 → effect 1.
    # C never ended in an order itself, yet removing it loses the conversions that pass through it.
    result = markov.fit([path("A", True), path("CA", False)])
    assert result.removal_effects == pytest.approx({"A": 1.0, "C": 0.5})
    assert result.shares == {"A": Fraction(2, 3), "C": Fraction(1, 3)}


def test_an_orders_markov_credit_is_the_tenant_shares_of_its_creators_renormalised():
    # Shares A 2/5, B 1/5, C 2/5 (the return-visit example): an order touched by A and B gets
    # A (2/5)/(3/5) = 2/3 and B 1/3; C, which did not touch it, gets nothing.
    fitted = fit([path("ABA", True), path("B", False), path("C", True)], "markov")
    credit = credit_order(touches("BA"), "markov", fitted=fitted)
    assert credit.shares == {"A": Fraction(2, 3), "B": Fraction(1, 3)}
    assert (credit.version, credit.params) == ("markov-v1", {"order": 1})


def test_an_order_whose_creators_have_no_credit_in_the_fit_is_insufficient_data():
    fitted = fit([path("AB", True), path("C", False)], "markov")
    with pytest.raises(InsufficientData, match="C"):
        shares(touches("C"), "markov", fitted=fitted)


def test_an_order_is_credited_by_markov_only_from_a_markov_fit():
    with pytest.raises(ValueError, match="fitted"):
        shares(touches("A"), "markov")
    with pytest.raises(ValueError, match="fitted"):
        shares(touches("A"), "markov", fitted=fit([path("A", True)], "shapley"))


def test_a_fit_with_other_parameters_is_refused():
    fitted = fit([path("AB", True), path("B", False)], "markov", {"order": 2})
    assert credit_order(touches("AB"), "markov", fitted=fitted).params == {"order": 2}
    with pytest.raises(ValueError, match="order"):
        credit_order(touches("AB"), "markov", {"order": 1}, fitted=fitted)


def test_no_paths_or_no_conversion_is_insufficient_data():
    with pytest.raises(InsufficientData, match="no paths"):
        markov.fit([])
    with pytest.raises(InsufficientData, match="no converting path among 2 paths"):
        markov.fit([path("A", False), path("B", False)])
    with pytest.raises(InsufficientData, match="no converting path"):
        fit([path("A", False)], "markov")


def test_the_bounded_series_gives_the_lu_solution_on_a_chain_with_loops():
    # Many return visits (A B A B …) make long walks; the series must still agree with the LU
    # to far below the 12 decimal places the shares keep.
    raw = ["ABAB", "BA", "ABC", "CAB", "BCBCA", "A", "CC", "ABCABC", "BAB", "CBA", "AC"]
    paths = [path(cs, i % 3 != 1) for i, cs in enumerate(raw)]
    for order in (1, 2, 3):
        lu = markov.fit(paths, order, direct_max=10_000)
        series = markov.fit(paths, order, direct_max=0)
        assert series.conversion_probability == pytest.approx(lu.conversion_probability, abs=1e-14)
        assert series.removal_effects == pytest.approx(lu.removal_effects, abs=1e-13)
        assert series.shares == lu.shares


def exact_removal_effects(raw: list[tuple[str, bool]], order: int) -> dict[str, Fraction]:
    """An independent exact computation: the chain in fractions, each absorption probability by
    Gauss–Jordan elimination, with no numpy, no repeats collapsed by the model's code."""
    walks = []
    for cs, conv in raw:
        seq = [c for i, c in enumerate(cs) if i == 0 or cs[i - 1] != c]
        states = [tuple(seq[max(0, i - order + 1): i + 1]) for i in range(len(seq))]
        walks.append((["start", *states], "conversion" if conv else "null"))
    moves: dict[object, dict[object, int]] = {}
    for states, end in walks:
        for a, b in zip(states, [*states[1:], end]):
            moves.setdefault(a, {}).setdefault(b, 0)
            moves[a][b] += 1

    def p_conversion(removed: str | None) -> Fraction:
        alive = [s for s in moves if s == "start" or removed not in s]
        at = {s: i for i, s in enumerate(alive)}
        # x_s − Σ P(s→t) x_t = P(s→conversion), over the states that remain.
        rows = []
        for s in alive:
            out = sum(moves[s].values())
            row = [Fraction(0)] * (len(alive) + 1)
            row[at[s]] += 1
            for t, n in moves[s].items():
                if t == "conversion":
                    row[-1] += Fraction(n, out)
                elif t in at:
                    row[at[t]] -= Fraction(n, out)
            rows.append(row)
        for col in range(len(alive)):
            pivot = next(r for r in range(col, len(rows)) if rows[r][col] != 0)
            rows[col], rows[pivot] = rows[pivot], rows[col]
            rows[col] = [v / rows[col][col] for v in rows[col]]
            for r in range(len(rows)):
                if r != col and rows[r][col] != 0:
                    f = rows[r][col]
                    rows[r] = [a - f * b for a, b in zip(rows[r], rows[col])]
        return rows[at["start"]][-1]

    full = p_conversion(None)
    creators = sorted({c for cs, _ in raw for c in cs})
    return {c: 1 - p_conversion(c) / full for c in creators}


small_path_sets = st.lists(
    st.tuples(st.text(alphabet="ABCD", min_size=1, max_size=4), st.booleans()), min_size=1, max_size=12,
).filter(lambda ps: any(conv for _, conv in ps))


@settings(max_examples=40, deadline=None)
@given(small_path_sets, st.integers(min_value=1, max_value=3), st.booleans())
def test_removal_effects_match_an_exact_rational_computation(raw, order, series):
    result = markov.fit([path(cs, conv) for cs, conv in raw], order, direct_max=0 if series else 10_000)
    exact = exact_removal_effects(raw, order)
    assert result.removal_effects == pytest.approx({c: float(e) for c, e in exact.items()}, abs=1e-12)
    total = sum(exact.values())
    for c, e in exact.items():
        assert float(result.shares.get(c, 0)) == pytest.approx(float(e / total), abs=1e-9)


def test_removal_columns_solved_in_blocks_give_what_one_block_gives(monkeypatch):
    # 150 creators: three blocks of 64 removal columns against one of 151, on both solvers.
    rng = random.Random(5)
    creators = [f"c{i:03d}" for i in range(150)]
    paths = []
    for _ in range(3000):
        chosen = [rng.choice(creators) for _ in range(rng.randint(1, 4))]
        paths.append(Path(tuple(Touch(c, "click", T0 + timedelta(days=i)) for i, c in enumerate(chosen)),
                          rng.random() < 0.3))
    for order, direct_max in ((1, markov.DIRECT_MAX), (2, 10)):
        monkeypatch.setattr(markov, "BLOCK", 64)
        blocked = markov.fit(paths, order, direct_max=direct_max)
        monkeypatch.setattr(markov, "BLOCK", 10_000)
        whole = markov.fit(paths, order, direct_max=direct_max)
        assert blocked.removal_effects == pytest.approx(whole.removal_effects, abs=1e-12)
        assert blocked.shares == whole.shares and len(blocked.removal_effects) == 150
