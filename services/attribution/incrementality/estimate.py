"""Difference-in-differences over a panel of units (regions or countries) × UTC days: what a
holdout test's treatment group gained over its control group. Pure: no database, no clock.

The model is the canonical two-group, two-period DiD regression, one row per unit-day
(Angrist & Pischke, *Mostly Harmless Econometrics*, section 5.2; Bertrand, Duflo & Mullainathan
2004 for why the errors must be clustered by unit):

    y_it = β0 + β1·treated_i + β2·test_t + δ·(treated_i · test_t) + ε_it

where y_it is the unit's orders (or revenue) on day t, `test_t` is 1 in the test period and 0 in
the pre-period. With every unit observed on every day (a unit with no order on a day counts 0),
δ̂ is exactly (treatment test mean − treatment pre mean) − (control test mean − control pre
mean), per unit and day. Its standard error is cluster-robust by unit (the sandwich estimator
with the CR1 small-sample factor G/(G−1)·(N−1)/(N−K), Cameron & Miller 2015, "A Practitioner's
Guide to Cluster-Robust Inference"), so a unit's days are not taken as independent
draws; the 95 % interval uses Student's t with G−1 degrees of freedom (G the number of units),
as Stata's `regress, vce(cluster)` does, which widens it when units are few.

The effect is reported for the whole treatment group: δ̂ × treated units per day, and × test
days over the test period. The relative lift divides by the treatment group's counterfactual
over the test period (what it sold less the lift) and its interval divides the absolute
interval's bounds by that same counterfactual, taken as known: an approximation that ignores
the counterfactual's own uncertainty, stated in docs/guide/attribution-incrementality.md.

Nothing is made up: a group with no units, a period with no days, a group with a single unit
(a cluster-robust interval needs two per group: with one, that unit's pre and test residuals
each sum to zero and it adds no variance at all) or a group that sold nothing in a period gives
`Insufficient` with what is missing, never a figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy import stats

METHOD = ("difference-in-differences: OLS of unit-day values on treated, test period and their interaction; "
          "standard errors clustered by unit (CR1); 95 % interval from Student's t with G-1 degrees of freedom "
          "(G = units)")
CONFIDENCE = 0.95
MIN_UNITS_PER_GROUP = 2


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
    significant: bool  # the interval does not contain 0
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
            missing.append(f"the {group} group has {len(units)} unit; a cluster-robust interval needs at least "
                           f"{MIN_UNITS_PER_GROUP} per group")
    for period, days in (("pre-period", panel.pre_days), ("test period", panel.test_days)):
        if not days:
            missing.append(f"the {period} has no days")
    if set(panel.treatment) & set(panel.control):
        missing.append("a unit is in both groups: " + ", ".join(sorted(set(panel.treatment) & set(panel.control))))
    if missing:
        return missing
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


def estimate(panel: Panel, measure: str = "orders") -> Estimate | Insufficient:
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
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof)) * se

    n_treated, n_pre, n_test = len(panel.treatment), len(panel.pre_days), len(panel.test_days)
    per_day_scale, total_scale = n_treated, n_treated * n_test
    lift = delta * total_scale
    interval = ((delta - half) * total_scale, (delta + half) * total_scale)
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
        lift_per_day_interval=((delta - half) * per_day_scale, (delta + half) * per_day_scale),
        lift=lift, interval=interval, significant=not (interval[0] <= 0 <= interval[1]),
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
