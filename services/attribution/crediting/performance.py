"""The performance worker: publishes each creator's sales record (`attribution.performance.v1`,
for discovery) when it changed — once per creator and round, however many orders, refunds or
cancellations moved it since the last one (docs/decisions/0039).

Crediting notes a change in `performance_due` (crediting/totals.py, `performance_due`), in the
transaction that made it. A round takes a batch of notes (locked, so replicas share the work
instead of repeating it), reads each record from the running totals and the ledger, adds the
event to the outbox and deletes the note — only if nothing bumped it meanwhile: a change still
committing when the record was read leaves its note for the next round, so the last event
published for a creator always shows its last change.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy import and_, delete, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.attribution.clicks.models import Click
from services.attribution.crediting.models import CreatorDayTotal, PerformanceDue
from services.attribution.db import SERVICE, outbox
from services.attribution.ledger.models import LedgerEntry
from shared.contracts.attribution import CreatorPerformanceUpdated
from shared.contracts.envelope import new_envelope
from shared.db import utcnow
from shared.messaging.kafka import sleep_or_stop
from shared.tenancy import across_tenants

log = logging.getLogger(__name__)

PERFORMANCE = "attribution.performance.v1"
# Notes locked per transaction: small, since a crediting transaction of one of these creators
# waits on its note until the round's transaction ends.
BATCH = 20


async def sales_record(session: AsyncSession, creator_id: uuid.UUID, currency: str) -> CreatorPerformanceUpdated:
    """The creator's sales record in `currency` over every workspace (discovery's catalogue is
    installation-wide): unflagged clicks, credited orders, their revenue (the orders' basis now)
    and the net commission in the ledger."""
    clicks = (await session.execute(select(func.count()).select_from(Click).where(
        Click.creator_id == creator_id, Click.flagged.is_(False)))).scalar_one()
    orders, revenue = (await session.execute(
        select(func.coalesce(func.sum(CreatorDayTotal.orders), 0), func.coalesce(func.sum(CreatorDayTotal.revenue_minor), 0))
        .where(CreatorDayTotal.creator_id == creator_id, CreatorDayTotal.currency == currency))).one()
    commission = (await session.execute(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.creator_id == creator_id, LedgerEntry.currency == currency))).scalar_one()
    return CreatorPerformanceUpdated(creator_id=creator_id, clicks=int(clicks), orders=int(orders),
                                     revenue_minor=int(revenue), commission_minor=int(commission), currency=currency,
                                     as_of=utcnow())


async def publish_due(session: AsyncSession, limit: int = BATCH) -> int:
    """One batch of due records: published through the outbox, their notes deleted. Returns how many."""
    due = (await session.execute(
        select(PerformanceDue.creator_id, PerformanceDue.currency, PerformanceDue.version)
        .order_by(PerformanceDue.since).limit(limit).with_for_update(skip_locked=True))).all()
    for creator_id, currency, version in due:
        record = await sales_record(session, creator_id, currency)
        await outbox.add(session, PERFORMANCE, new_envelope(
            event_type="CreatorPerformanceUpdated", producer=SERVICE, aggregate_id=str(creator_id), payload=record))
        await session.execute(delete(PerformanceDue).where(and_(
            PerformanceDue.creator_id == creator_id, PerformanceDue.currency == currency,
            PerformanceDue.version == version)))
    return len(due)


class PerformanceWorker:
    """Publishes due sales records every `interval` seconds (fits `shared.app.Worker`)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: float = 2.0):
        self.sessionmaker = sessionmaker
        self.interval = interval

    async def publish_once(self) -> int:
        published = 0
        while True:
            async with self.sessionmaker() as session, session.begin():
                across_tenants(session, "a creator's sales record is installation-wide, for discovery's catalogue")
                done = await publish_due(session)
            published += done
            if done < BATCH:
                return published

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.publish_once()
            except (DBAPIError, OSError) as exc:
                log.warning("publishing creators' sales records failed", extra={"error": repr(exc)})
            await sleep_or_stop(stop, self.interval)
