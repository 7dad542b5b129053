"""The report totals' worker: every few seconds, the writes' deltas folded into the running totals
(`attribution.report_compact()`, migration 0022, ADR 0051). Reports are right without it (they
read the deltas too); it keeps what they read small. One folds at a time (an advisory lock in the
function), so replicas running it side by side only skip."""

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messaging.kafka import sleep_or_stop
from shared.tenancy import across_tenants

log = logging.getLogger(__name__)


async def compact(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """The deltas folded in now: how many totals rows they changed (0 when another is folding)."""
    async with sessionmaker() as session, session.begin():
        across_tenants(session, "the deltas of every tenant are folded the same way")
        return int((await session.execute(text("SELECT attribution.report_compact()"))).scalar_one())


class ReportTotalsWorker:
    """Runs `compact` every `interval` seconds (fits `shared.app.Worker`)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: float = 2):
        self.sessionmaker = sessionmaker
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await compact(self.sessionmaker)
            except (DBAPIError, OSError) as exc:
                log.warning("folding the report deltas into the totals failed", extra={"error": repr(exc)})
            await sleep_or_stop(stop, self.interval)
