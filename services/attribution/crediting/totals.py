"""A creator's running totals (`creator_day_totals`: credited orders, their basis now and their
commission, per UTC day, campaign and currency), kept in the same transaction as each decision
and refund, so a rule's inputs read the days of a window and not the creator's history; the
lock that serialises one creator's decisions; and the note that the creator's sales record
changed (`performance_due`, published by crediting/performance.py, docs/decisions/0039)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import String, and_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.crediting.models import CreatorDayTotal, OrderCredit, PerformanceDue
from services.attribution.orders import batch
from services.attribution.orders.models import PartnerOrder
from shared.db import transaction_memo
from shared.tenancy import bound_tenant, built_once

# Built once with bind parameters (docs/decisions/0057).
_CREDIT_LOCK = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("name", type_=String), 0)))


def _rule_inputs_statement():
    in_window = and_(CreatorDayTotal.day >= bindparam("start"), CreatorDayTotal.day < bindparam("end"))
    in_period = and_(CreatorDayTotal.day >= bindparam("first"), CreatorDayTotal.day < bindparam("last"),
                     CreatorDayTotal.campaign_id == bindparam("campaign"))
    return (select(func.coalesce(func.sum(CreatorDayTotal.revenue_minor).filter(in_window), 0),
                   func.coalesce(func.sum(CreatorDayTotal.commission_minor).filter(in_period), 0))
            .where(CreatorDayTotal.creator_id == bindparam("creator"), CreatorDayTotal.currency == bindparam("currency"),
                   or_(in_window, in_period)))


def _add_to_totals_statement():
    statement = insert(CreatorDayTotal)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[CreatorDayTotal.creator_id, CreatorDayTotal.currency, CreatorDayTotal.day,
                        CreatorDayTotal.campaign_id],
        set_={"orders": CreatorDayTotal.orders + excluded.orders,
              "revenue_minor": CreatorDayTotal.revenue_minor + excluded.revenue_minor,
              "commission_minor": CreatorDayTotal.commission_minor + excluded.commission_minor})


_RULE_INPUTS = built_once(_rule_inputs_statement())
ADD_TO_TOTALS = _add_to_totals_statement()
_PERFORMANCE_DUE = insert(PerformanceDue).on_conflict_do_update(
    index_elements=[PerformanceDue.creator_id, PerformanceDue.currency], set_={"version": PerformanceDue.version + 1})


async def lock_creator(session: AsyncSession, tenant_id: uuid.UUID, creator_id: uuid.UUID) -> None:
    """One decision at a time per tenant and creator, until the transaction ends: the totals the
    rule reads then include every order decided before."""
    held = transaction_memo(session, "attribution.creator_locks")
    if (tenant_id, creator_id) in held:
        return  # a transaction-scoped lock: held until this transaction ends
    await session.execute(_CREDIT_LOCK, {"name": f"credit:{tenant_id}:{creator_id}"})
    held[(tenant_id, creator_id)] = True


async def rule_inputs(session: AsyncSession, creator_id: uuid.UUID, campaign_id: uuid.UUID, currency: str,
                      window: tuple[date, date], period: tuple[datetime, datetime]) -> tuple[int, int]:
    """In one statement, from the creator's day totals: its attributed revenue (credited orders'
    basis now) placed on the UTC days [window), and what it was credited (before refunds) in the
    campaign for orders placed in [period)."""
    (start, end), (first, last) = window, (period[0].date(), period[1].date())
    writes = batch.deferred(session)
    # In a batch whose day totals wait for its end, the database's figures for the same question
    # cannot change before it: every writer of the creator's totals holds the creator's lock, held
    # here, and this transaction's own additions wait in `writes`. So they are read once.
    asked = (bound_tenant(session), creator_id, campaign_id, currency, start, end, first, last)
    known = writes.totals_read.get(asked) if writes is not None else None
    if known is None:
        revenue, earned = (await session.execute(_RULE_INPUTS, {
            "start": start, "end": end, "first": first, "last": last, "campaign": campaign_id, "creator": creator_id,
            "currency": currency})).one()
        known = (int(revenue), int(earned))
        if writes is not None:
            writes.totals_read[asked] = known
    revenue, earned = known
    if writes is not None:
        # What the batch adds at its end (orders/batch.py), counted as the statement counts rows.
        waiting = writes.day_totals.get((asked[0], creator_id, currency), {})
        for (day, campaign), (_, more_revenue, more_commission) in waiting.items():
            if start <= day < end:
                revenue += more_revenue
            if first <= day < last and campaign == campaign_id:
                earned += more_commission
    return revenue, earned


async def add_to_totals(session: AsyncSession, row: PartnerOrder, decision: OrderCredit, *, orders: int,
                         revenue: int, commission: int) -> None:
    """Add to the day total of the order's creator, campaign and currency on the day that counts
    it (`counted_on`: its UTC day when credited, kept even if a later update moves `placed_at`,
    so what was added to one day is never taken from another)."""
    key = {"tenant_id": row.tenant_id, "creator_id": decision.creator_id, "currency": row.currency,
           "day": decision.counted_on, "campaign_id": decision.campaign_id}
    if batch.add_to_day_total(session, tuple(key.values()), orders, revenue, commission):
        return  # written with the batch's others at its end (orders/batch.py)
    await session.execute(ADD_TO_TOTALS, [{**key, "orders": orders, "revenue_minor": revenue, "commission_minor": commission}])


async def count(session: AsyncSession, row: PartnerOrder, decision: OrderCredit) -> None:
    """Count a credited order in its creator's day total: the order, its basis now, its commission."""
    decision.counted_on = (decision.placed_at or row.placed_at).astimezone(UTC).date()
    decision.revenue_counted_minor = row.basis_minor
    await add_to_totals(session, row, decision, orders=1, revenue=row.basis_minor, commission=decision.commission_minor)


async def follow_basis(session: AsyncSession, row: PartnerOrder, decision: OrderCredit) -> None:
    """Keep the creator's day total on the order's basis now (a refund lowers it, a cancellation
    takes it to 0): only the difference from what it already counts, so a replay adds nothing. A
    credit not counted yet (decided by a service older than the totals, after migration 0014's
    backfill) is counted whole the first time."""
    if decision.counted_on is None:
        await lock_creator(session, row.tenant_id, decision.creator_id)
        await count(session, row, decision)
    else:
        delta = row.basis_minor - decision.revenue_counted_minor
        if delta == 0:
            return
        await lock_creator(session, row.tenant_id, decision.creator_id)
        await add_to_totals(session, row, decision, orders=0, revenue=delta, commission=0)
        decision.revenue_counted_minor = row.basis_minor
    await performance_due(session, decision.creator_id, row.currency)


async def performance_due(session: AsyncSession, creator_id: uuid.UUID, currency: str) -> None:
    """Note that the creator's sales record in `currency` changed: the performance worker publishes
    it (crediting/performance.py). Bumping `version` tells a worker that read the record before
    this transaction commits to leave the note for its next round."""
    noted = transaction_memo(session, "attribution.performance_due")
    if (creator_id, currency) in noted:
        return  # one note per transaction is enough: it is seen when the transaction commits
    await session.execute(_PERFORMANCE_DUE, [{"creator_id": creator_id, "currency": currency, "version": 1}])
    noted[(creator_id, currency)] = True
