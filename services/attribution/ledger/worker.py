"""The approval worker: now and then, every tenant's pending entries whose holding period has ended
become approved (`service.approve_due`). Idempotent: an entry already approved is not touched, so
replicas running it side by side only repeat a no-op."""

import asyncio
import logging

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.attribution.ledger import service
from shared.db import utcnow
from shared.messaging.kafka import sleep_or_stop
from shared.tenancy import across_tenants

log = logging.getLogger(__name__)


class ApprovalWorker:
    """Runs `approve_due` every `interval` seconds (fits `shared.app.Worker`)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: float = 60):
        self.sessionmaker = sessionmaker
        self.interval = interval

    async def approve_once(self) -> int:
        """Every entry due now, a batch per transaction (short transactions, short row locks)."""
        now, approved = utcnow(), 0
        while True:
            async with self.sessionmaker() as session, session.begin():
                across_tenants(session, "the holding period ends the same way for every tenant's entries")
                done = await service.approve_due(session, now)
            approved += done
            if done < service.APPROVAL_BATCH:
                return approved

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                approved = await self.approve_once()
                if approved:
                    log.info("commission entries approved", extra={"approved": approved})
            except (DBAPIError, OSError) as exc:
                log.warning("approving commission entries failed", extra={"error": repr(exc)})
            await sleep_or_stop(stop, self.interval)
