"""Difference-in-differences over a panel of units (regions or countries) × UTC days: what a
holdout test's treatment group gained over its control group. Pure: no database, no clock.

The model is the canonical two-group, two-period DiD regression, one row per unit-day
(Angrist & Pischke, *Mostly Harmless Econometrics*, section 5.2; Bertrand, Duflo & Mullainathan
2004 for why the errors must be clustered by unit):

    y_it = β0 + β1·treated_i + β2·test_t + δ·(treated_i · test_t) + ε_it

where y_it is the unit's orders (or revenue) on day t, `test_t` is 1 in the test period and 0 in
the pre-period. With every unit observed on every day (a unit with no order on a day counts 0),
δ̂ is exactly (treatment test mean − treatment pre mean) − (control test mean − control pre
mean), per unit and day: the difference of the two groups' mean *unit changes* Δ_i (a unit's
test-period mean less its pre-period mean). Its cluster-robust standard error (CR1, Cameron &
Miller 2015) is reported beside it.

The interval and the significance come from **randomization inference** (Fisher's exact test,
inverted for an interval: Imbens & Rubin 2015, ch. 5; for DiD with few treated clusters,
MacKinnon & Webb 2020, "Randomization inference for difference-in-differences with few treated
clusters", J. Econometrics 218). Cluster-robust t intervals are too narrow when treated units are
few or the groups unbalanced (in simulation, 2 treated regions against 40 controls came out
"significant" a third of the time with no effect at all); a randomization test has the size it
states whatever the group sizes, as long as the units' changes would be exchangeable without the
treatment. The statistic is studentized (the Welch t of the units' changes, "RI-t"), which keeps
it honest when units differ in size (Janssen 1997). Under "the effect is τ per unit and day",
every way to choose the treatment units among all units (all of them when there are at most
10,000, else 10,000 drawn with a fixed seed) gives a statistic; the p-value of τ is the share at
least as extreme as the observed one, and the 95 % interval is every τ whose p-value is above
0.05 (its bounds found by widening, then bisection; the statistic of each assignment moves with
τ through sums computed once). `significant` is p(0) ≤ 0.05 with 0 outside the interval: the
p-value is not always monotone in τ, and where the two disagree (rarely: the effects not
rejected can have a gap that the interval spans) the result is not called significant. With too
few units to choose from (fewer than 40 assignments for groups of one size, e.g. 3 + 3; 20
otherwise) no p-value can reach 0.05: that is `Insufficient`, saying so.

The effect is reported for the whole treatment group: δ̂ × treated units per day, and × test
days over the test period. The relative lift divides by the treatment group's counterfactual
over the test period (what it sold less the lift) and its interval divides the absolute
interval's bounds by that same counterfactual, taken as known: an approximation that ignores
the counterfactual's own uncertainty, stated in docs/guide/attribution-incrementality.md.

Nothing is made up: a group with no units, a period with no days, a group with a single unit
(an interval needs two per group: with one, the group's spread, and so the Welch t, is
undefined), too few units to choose the treatment from, or a group that sold nothing in a period
gives `Insufficient` with what is missing, never a figure.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

METHOD = ("difference-in-differences: OLS of unit-day values on treated, test period and their interaction "
          "(standard error clustered by unit, CR1, reported); 95 % interval and significance by randomization "
          "inference over the ways to choose the treatment units (Welch t of the units' changes, test inverted)")
CONFIDENCE = 0.95
MIN_UNITS_PER_GROUP = 2
MAX_ASSIGNMENTS = 10_000  # every assignment up to this many, else this many drawn
MIN_ASSIGNMENTS = 40  # groups of one size: below this no two-sided p-value can reach 0.05 (20 otherwise)
SEED = 20_261_127


@dataclass(frozen=True, slots=True)
class Panel:
    """Unit-day values of one measure. `values[(unit, day)]` is the unit's total on that day; a
    pair that is absent counts 0 (nothing was sold there that day). Units are the codes of the
    two groups; days are the UTC days of each period."""

    treatment: tuple[str, ...]
    control: tuple[str, ...]
    pre_days: tuple[date, ...]
    test_days: tuple[date, ...]
    values: Mapping[tuple[str, date], float]


@dataclass(frozen=True, slots=True)
class DayLift:
    day: date
    lift: float  # the treatment group's extra on that day, against its pre-period level and the control's change


@dataclass(frozen=True, slots=True)
class Estimate:
    method: str
    lift_per_unit_day: float  # δ̂
    standard_error: float  # of δ̂, cluster-robust by unit
    degrees_of_freedom: int
    lift_per_day: float  # δ̂ × treated units: the whole group's extra per day
    lift_per_day_interval: tuple[float, float]
    lift: float  # over the test period: δ̂ × treated units × test days
    interval: tuple[float, float]
    significant: bool  # p(no effect) <= 0.05: the interval does not contain 0
    p_value: float  # of no effect, by randomization inference
    assignments: int  # the ways to choose the treatment units the test used
    assignments_exact: bool  # all of them (else drawn at random, with a fixed seed)
    observed: float  # the treatment group's total over the test period
    counterfactual: float  # observed − lift: what it would have sold without the treatment
    relative: float | None  # lift / counterfactual; None when the counterfactual is not positive
    relative_interval: tuple[float, float] | None
    treatment_units: int
    control_units: int
    pre_days: int
    test_days: int
    per_day: tuple[DayLift, ...]
    group_totals: Mapping[str, float]  # treatment_pre, treatment_test, control_pre, control_test


@dataclass(frozen=True, slots=True)
class Insufficient:
    """No estimate: what is missing, each reason a sentence."""

    missing: tuple[str, ...]


def missing_data(panel: Panel, measure: str = "orders") -> list[str]:
    """What the panel lacks for an estimate (empty: nothing)."""
    missing = []
    for group, units in (("treatment", panel.treatment), ("control", panel.control)):
        if not units:
            missing.append(f"the {group} group has no units")
        elif len(units) < MIN_UNITS_PER_GROUP:
            missing.append(f"the {group} group has {len(units)} unit; an interval needs at least "
                           f"{MIN_UNITS_PER_GROUP} per group")
    for period, days in (("pre-period", panel.pre_days), ("test period", panel.test_days)):
        if not days:
            missing.append(f"the {period} has no days")
    if set(panel.treatment) & set(panel.control):
        missing.append("a unit is in both groups: " + ", ".join(sorted(set(panel.treatment) & set(panel.control))))
    if missing:
        return missing
    ways = math.comb(len(panel.treatment) + len(panel.control), len(panel.treatment))
    # The smallest two-sided p-value is 1/ways, or 2/ways when the groups are the same size (each
    # assignment's complement has the same |t|): it must be able to reach 0.05.
    needed = MIN_ASSIGNMENTS if len(panel.treatment) == len(panel.control) else MIN_ASSIGNMENTS // 2
    if ways < needed:
        missing.append(f"with {len(panel.treatment)} treatment and {len(panel.control)} control units there are only "
                       f"{ways} ways to choose the treatment units; a 95 % interval needs at least {needed} "
                       "(e.g. 4 and 4, or 2 and 5 units)")
    for group, units in (("treatment", panel.treatment), ("control", panel.control)):
        for period, days in (("pre-period", panel.pre_days), ("test period", panel.test_days)):
            if not any(panel.values.get((unit, day), 0) for unit in units for day in days):
                missing.append(f"the {group} group has no {measure} in the {period}")
    return missing


def _matrix(panel: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y (units × days, pre days first), and for each row its treated and test-period flags."""
    units = list(panel.treatment) + list(panel.control)
    days = list(panel.pre_days) + list(panel.test_days)
    y = np.array([[float(panel.values.get((unit, day), 0)) for day in days] for unit in units])
    treated = np.array([1.0] * len(panel.treatment) + [0.0] * len(panel.control))
    test = np.array([0.0] * len(panel.pre_days) + [1.0] * len(panel.test_days))
    return y, treated, test


class Randomization:
    """The randomization test of "the effect is τ per unit and day" on the units' changes Δ.

    Each assignment a (a 0/1 row choosing n_t treatment units) has, under τ, the changes
    Δ − τ·D (D: the observed assignment). Its statistic is the Welch t of the chosen units'
    adjusted changes against the others'. Every term is a sum over the chosen units of Δ, Δ², D,
    D·Δ (D² = D), so each is computed once and the statistic of every assignment under any τ is a
    few vector operations."""

    def __init__(self, changes: np.ndarray, treated: np.ndarray, draws: int = MAX_ASSIGNMENTS):
        g, n_t = len(changes), int(treated.sum())
        self.n_t, self.n_c = n_t, g - n_t
        d = treated.astype(float)
        columns = np.column_stack([changes, changes * changes, d, d * changes])  # g × 4
        ways = math.comb(g, n_t)
        self.exact = ways <= draws
        if self.exact:
            chosen = np.array(list(itertools.combinations(range(g), n_t)), dtype=np.int64).reshape(ways, n_t)
            parts = [columns[chosen].sum(axis=1)]
        else:  # drawn with a fixed seed, the observed assignment first (Imbens & Rubin 2015, 5.8)
            rng = np.random.default_rng(SEED)
            parts, left = [d @ columns], draws - 1
            while left:  # in blocks, so a 1,000-unit design never holds 10,000 × 1,000 numbers at once
                block = min(left, 1_000)
                picked = np.argpartition(rng.random((block, g)), n_t - 1, axis=1)[:, :n_t] if n_t < g else \
                    np.tile(np.arange(g), (block, 1))
                parts.append(columns[picked].sum(axis=1))
                left -= block
        sums = np.vstack([np.atleast_2d(p) for p in parts])  # assignments × 4
        self.count = len(sums)
        totals = columns.sum(axis=0)
        self.sums = {name: (sums[:, i], float(totals[i])) for i, name in enumerate(("x", "xx", "d", "dx"))}
        self._d = d
        self._x = changes

    def statistics(self, tau: float, rows: dict | None = None) -> np.ndarray:
        """The Welch t of every assignment under τ."""
        sums = rows or self.sums
        out = []
        for side, n in (("in", self.n_t), ("out", self.n_c)):
            x = sums["x"][0] if side == "in" else sums["x"][1] - sums["x"][0]
            xx = sums["xx"][0] if side == "in" else sums["xx"][1] - sums["xx"][0]
            d = sums["d"][0] if side == "in" else sums["d"][1] - sums["d"][0]
            dx = sums["dx"][0] if side == "in" else sums["dx"][1] - sums["dx"][0]
            total = x - tau * d  # Σ (Δ − τD)
            squares = xx - 2 * tau * dx + tau * tau * d  # Σ (Δ − τD)²
            mean = total / n
            variance = np.maximum(squares - n * mean * mean, 0.0) / (n - 1)
            out.append((mean, variance / n))
        difference = out[0][0] - out[1][0]
        scale = np.sqrt(out[0][1] + out[1][1])
        tiny = 1e-12 * (1.0 + np.abs(out[0][0]) + np.abs(out[1][0]))
        difference = np.where(np.abs(difference) <= tiny, 0.0, difference)
        with np.errstate(divide="ignore", invalid="ignore"):
            # No spread in either group: the difference is certain, ±inf, or 0 when there is none.
            flat = np.where(difference == 0, 0.0, np.sign(difference) * np.inf)
            t = np.where(scale > 0, difference / np.where(scale > 0, scale, 1.0), flat)
        return t

    def observed_statistic(self, tau: float) -> float:
        one = {name: (np.array([float((self._d * v).sum())]), total) for name, (v, total) in
               (("x", (self._x, self.sums["x"][1])), ("xx", (self._x * self._x, self.sums["xx"][1])),
                ("d", (self._d, self.sums["d"][1])), ("dx", (self._d * self._x, self.sums["dx"][1])))}
        return float(self.statistics(tau, one)[0])

    def p_value(self, tau: float) -> float:
        """The share of assignments whose |t| is at least the observed one's, under τ."""
        observed = abs(self.observed_statistic(tau))
        t = np.abs(self.statistics(tau))
        at_least = int(np.count_nonzero(t >= observed * (1 - 1e-9) - 1e-12))
        return at_least / self.count

    def interval(self, center: float, scale: float, alpha: float) -> tuple[float, float] | None:
        """Every τ whose p-value is above alpha, as [low, high]; None when it has no bound."""
        step = scale if scale > 0 else max(abs(center), 1.0) * 1e-6
        bounds = []
        for direction in (-1.0, 1.0):
            inside, outside = center, None
            reach = step
            for _ in range(80):  # widen until rejected
                candidate = center + direction * reach
                if self.p_value(candidate) <= alpha:
                    outside = candidate
                    break
                inside, reach = candidate, reach * 2
            if outside is None:
                return None
            for _ in range(40):  # then halve the gap (to 2^-40 of it)
                middle = (inside + outside) / 2
                if self.p_value(middle) <= alpha:
                    outside = middle
                else:
                    inside = middle
            bounds.append(inside)
        return bounds[0], bounds[1]


def estimate(panel: Panel, measure: str = "orders", draws: int = MAX_ASSIGNMENTS) -> Estimate | Insufficient:
    """The DiD estimate of the treatment's effect on the measure, or what is missing for one."""
    missing = missing_data(panel, measure)
    if missing:
        return Insufficient(tuple(missing))
    y, treated, test = _matrix(panel)
    g, t = y.shape
    # One row per unit-day, unit-major: rows [u*t, (u+1)*t) are unit u's (its cluster).
    d = np.repeat(treated, t)
    p = np.tile(test, g)
    x = np.column_stack([np.ones(g * t), d, p, d * p])
    yy = y.reshape(-1)
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ (x.T @ yy)
    residuals = yy - x @ beta
    scores = (x * residuals[:, None]).reshape(g, t, 4).sum(axis=1)  # Σ_t x_it·e_it per unit
    meat = scores.T @ scores
    n, k = x.shape
    correction = g / (g - 1) * (n - 1) / (n - k)
    variance = correction * bread @ meat @ bread
    delta = float(beta[3])
    se = float(np.sqrt(max(variance[3, 3], 0.0)))
    dof = g - 1

    n_treated, n_pre, n_test = len(panel.treatment), len(panel.pre_days), len(panel.test_days)
    changes = y[:, n_pre:].mean(axis=1) - y[:, :n_pre].mean(axis=1)  # Δ_i; δ̂ = mean_T Δ − mean_C Δ
    test = Randomization(changes, treated, draws)
    alpha = 1 - CONFIDENCE
    bounds = test.interval(delta, se, alpha)
    if bounds is None:
        return Insufficient((f"no 95 % interval: among the {test.count} ways to choose the treatment units none "
                             "rejects an effect however large; add units",))
    p_value = test.p_value(0.0)
    per_day_scale, total_scale = n_treated, n_treated * n_test
    lift = delta * total_scale
    low, high = min(bounds[0], delta), max(bounds[1], delta)
    interval = (low * total_scale, high * total_scale)
    treatment_rows, control_rows = y[:n_treated], y[n_treated:]
    totals = {
        "treatment_pre": float(treatment_rows[:, :n_pre].sum()), "treatment_test": float(treatment_rows[:, n_pre:].sum()),
        "control_pre": float(control_rows[:, :n_pre].sum()), "control_test": float(control_rows[:, n_pre:].sum()),
    }
    observed = totals["treatment_test"]
    counterfactual = observed - lift
    relative = relative_interval = None
    if counterfactual > 0:
        relative = lift / counterfactual
        relative_interval = (interval[0] / counterfactual, interval[1] / counterfactual)
    # Each test day against the pre-period levels, in the group's terms; they add up to `lift`.
    treatment_base = treatment_rows[:, :n_pre].mean()
    control_base = control_rows[:, :n_pre].mean()
    per_day = tuple(
        DayLift(day, float(((treatment_rows[:, n_pre + i].mean() - treatment_base)
                            - (control_rows[:, n_pre + i].mean() - control_base)) * n_treated))
        for i, day in enumerate(panel.test_days)
    )
    return Estimate(
        method=METHOD, lift_per_unit_day=delta, standard_error=se, degrees_of_freedom=dof,
        lift_per_day=delta * per_day_scale,
        lift_per_day_interval=(low * per_day_scale, high * per_day_scale),
        lift=lift, interval=interval, significant=p_value <= alpha and not (low <= 0 <= high),
        p_value=p_value, assignments=test.count, assignments_exact=test.exact,
        observed=observed, counterfactual=counterfactual, relative=relative, relative_interval=relative_interval,
        treatment_units=n_treated, control_units=len(panel.control), pre_days=n_pre, test_days=n_test,
        per_day=per_day, group_totals=totals,
    )


def days_between(start: date, end: date) -> tuple[date, ...]:
    """The days from `start` to `end`, both included (none when end is before start)."""
    return tuple(date.fromordinal(o) for o in range(start.toordinal(), end.toordinal() + 1))


def panel_of(rows: Sequence[tuple[str, date, float]], treatment: Sequence[str], control: Sequence[str],
             pre_days: Sequence[date], test_days: Sequence[date]) -> Panel:
    """A panel from (unit, day, value) rows; rows of other units or days are left out, repeats added."""
    units, days = set(treatment) | set(control), set(pre_days) | set(test_days)
    values: dict[tuple[str, date], float] = {}
    for unit, day, value in rows:
        if unit in units and day in days:
            values[(unit, day)] = values.get((unit, day), 0) + value
    return Panel(tuple(treatment), tuple(control), tuple(pre_days), tuple(test_days), values)
