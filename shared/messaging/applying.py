"""Applying envelopes inside one transaction: claim their processed-event records with one
INSERT, then run each newly claimed event's handler in order, under its correlation id and its
tenant. The batch path and the one-record path both come through here.

The tenant: while a handler runs, the session is bound to its envelope's `tenant_id`
(shared.tenancy), so what it stores in a tenant-owned table belongs to the event's tenant and
what it reads is that tenant's; an event of no tenant (the shared catalogue's) touches no
tenant-owned table. A consumer never has to copy the tenant by hand, and cannot forget it.
"""

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import tenancy
from shared.contracts.envelope import Envelope
from shared.messaging.failures import DatabaseUnavailable
from shared.messaging.processed import ProcessedEvents
from shared.messaging.routing import Router
from shared.observability import reset_correlation_id, set_correlation_id

PROCESSED = "processed"
DUPLICATE = "duplicate"


@contextlib.asynccontextmanager
async def unit_of_work(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction; committed when the block ends, rolled back if it raises."""
    async with sessionmaker() as session, session.begin():
        try:
            await session.connection()
        except (OSError, TimeoutError, DBAPIError, PoolTimeoutError) as exc:
            # Before any handler code ran: whatever the type, the database is unreachable.
            raise DatabaseUnavailable(repr(exc)) from exc
        yield session


async def apply_events(
    session: AsyncSession, processed: ProcessedEvents, router: Router, events: list[tuple[str, Envelope]]
) -> list[str]:
    """Apply (topic, envelope) pairs in order; PROCESSED or DUPLICATE for each."""
    claimed = await processed.claim(session, [(envelope.event_id, topic) for topic, envelope in events])
    prepared = []
    if router.prepares:
        prepared = await _prepare(session, router, [(topic, e) for topic, e in events if e.event_id in claimed])
    outcomes = []
    for topic, envelope in events:
        if envelope.event_id not in claimed:
            outcomes.append(DUPLICATE)
            continue
        claimed.discard(envelope.event_id)  # a second copy in the same call is a duplicate
        token = set_correlation_id(envelope.correlation_id)
        try:
            with tenancy.acting_for(session, envelope.tenant_id):
                await router.handler(topic, envelope.event_type)(session, envelope)
        finally:
            reset_correlation_id(token)
        outcomes.append(PROCESSED)
    for subscription in prepared:
        if subscription in router.finishes:
            await router.finishes[subscription](session)
    return outcomes


async def _prepare(session: AsyncSession, router: Router, events: list[tuple[str, Envelope]]) -> list[tuple[str, str]]:
    """Each subscription's `prepare`, once, with the claimed events it is about to handle; the
    subscriptions prepared (their `finish` runs once the events are applied)."""
    batches: dict[tuple[str, str], list[Envelope]] = {}
    for topic, envelope in events:
        if (topic, envelope.event_type) in router.prepares:
            batches.setdefault((topic, envelope.event_type), []).append(envelope)
    for subscription, envelopes in batches.items():
        await router.prepares[subscription](session, envelopes)
    return list(batches)
