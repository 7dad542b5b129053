"""Holdout tests: a design is checked and kept; its result is computed whenever it is asked for,
from the orders kept so far (so late orders, refunds and cancellations count as they arrive):
the difference-in-differences lift in orders and in revenue per currency (estimate.py), and
beside it the revenue crediting attributed in the treatment group over the same days.

Only complete UTC days are counted: while a test runs, its result reaches yesterday, and
`counted_through` says so. An order counts in the unit its shipping address names; orders with
no shipping country (or region) kept are not counted, and `unplaced_orders` says how many."""

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.campaign import repository as campaigns
from services.attribution.incrementality import repository
from services.attribution.incrementality.estimate import (
    CONFIDENCE, METHOD, Estimate, Insufficient, days_between, estimate, panel_of,
)
from services.attribution.incrementality.models import HoldoutTest
from services.attribution.incrementality.schemas import (
    AttributedRead, DayLiftRead, HoldoutResultRead, HoldoutTestCreate, HoldoutTestRead, LiftRead, RevenueLiftRead,
)
from shared.errors import Conflict, Invalid, NotFound


async def create(session: AsyncSession, data: HoldoutTestCreate) -> HoldoutTest:
    if data.campaign_id is not None and await campaigns.get(session, data.campaign_id) is None:
        # As codes and links answer a campaign that is not the caller's (a state, not a malformed body).
        raise Conflict([{"field": "body.campaign_id", "reason": f"campaign {data.campaign_id} does not exist"}])
    test = HoldoutTest(
        id=uuid.uuid4(), name=data.name, campaign_id=data.campaign_id, unit=data.unit, treatment=data.treatment,
        control=data.control, pre_start=data.pre_period.start, pre_end=data.pre_period.end,
        test_start=data.test_period.start, test_end=data.test_period.end)
    session.add(test)
    await session.flush()
    await session.refresh(test)
    return test


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _read(result: Estimate | Insufficient, digits: int | None, **extra) -> dict:
    """A LiftRead's fields: figures rounded (`digits` None: to whole minor units)."""
    if isinstance(result, Insufficient):
        return dict(status="insufficient_data", missing=list(result.missing), lift=None, interval=None,
                    lift_per_day=None, lift_per_day_interval=None, relative=None, relative_interval=None,
                    significant=None, p_value=None, assignments=None, assignments_exact=None, observed=None,
                    counterfactual=None, standard_error=None, degrees_of_freedom=None, group_totals=None, per_day=[],
                    **extra)

    def r(x: float) -> float | int:
        return int(round(x)) if digits is None else round(x, digits)

    def pair(p: tuple[float, float] | None, n: int | None = None) -> tuple[float, float] | None:
        return None if p is None else ((round(p[0], n), round(p[1], n)) if n else (r(p[0]), r(p[1])))

    return dict(
        status="estimated", missing=[], lift=r(result.lift), interval=pair(result.interval),
        lift_per_day=r(result.lift_per_day), lift_per_day_interval=pair(result.lift_per_day_interval),
        relative=None if result.relative is None else round(result.relative, 4),
        relative_interval=pair(result.relative_interval, 4), significant=result.significant,
        p_value=round(result.p_value, 6), assignments=result.assignments, assignments_exact=result.assignments_exact,
        observed=r(result.observed), counterfactual=r(result.counterfactual),
        standard_error=round(result.standard_error, 6), degrees_of_freedom=result.degrees_of_freedom,
        group_totals={k: r(v) for k, v in result.group_totals.items()},
        per_day=[DayLiftRead(day=d.day, lift=r(d.lift)) for d in result.per_day], **extra)


async def result(session: AsyncSession, test_id: uuid.UUID, today: date) -> HoldoutResultRead:
    """The test's result with the days complete before `today` (UTC)."""
    test = await repository.get(session, test_id)
    if test is None:
        raise NotFound(f"holdout test {test_id} does not exist")
    last = min(test.test_end, today - timedelta(days=1))
    pre_days = days_between(test.pre_start, min(test.pre_end, last))
    test_days = days_between(test.test_start, last)
    start, end = _midnight(test.pre_start), _midnight(last + timedelta(days=1))
    units = list(test.treatment) + list(test.control)
    found = await repository.unit_days(session, test.unit, units, start, end) if end > start else []

    def panel(rows):
        return panel_of(rows, test.treatment, test.control, pre_days, test_days)

    def explained(figure: Estimate | Insufficient) -> Estimate | Insufficient:
        if isinstance(figure, Insufficient) and not test_days:
            # Not "no days" but "none complete yet": the test has not started, or started today.
            return Insufficient(tuple(f"the test period has no complete UTC day yet (it starts on {test.test_start})"
                                      if m == "the test period has no days" else m for m in figure.missing))
        return figure

    orders = explained(estimate(panel([(u, d, n) for u, d, _, n, _ in found]), "orders"))
    revenue = []
    for currency in sorted({c for _, _, c, _, _ in found}):
        figure = explained(estimate(panel([(u, d, r) for u, d, c, _, r in found if c == currency]),
                                    f"revenue in {currency}"))
        revenue.append(RevenueLiftRead(**_read(figure, None, currency=currency)))
    if test_days:
        credited = await repository.attributed(session, test.unit, list(test.treatment), _midnight(test.test_start),
                                               end, test.campaign_id)
    else:
        credited = []
    return HoldoutResultRead(
        test=HoldoutTestRead.of(test), method=METHOD, confidence=CONFIDENCE,
        units={"treatment": list(test.treatment), "control": list(test.control)},
        days={"pre_period": len(pre_days), "test_period": len(test_days)},
        counted_through=last if last >= test.pre_start else None,
        orders=LiftRead(**_read(orders, 2)), revenue=revenue,
        attributed=[AttributedRead(currency=c, orders=n, revenue=r) for c, n, r in credited],
        unplaced_orders=await repository.unplaced(session, test.unit, units, start, end) if end > start else 0,
    )
