"""The retention job: clicks older than `CLICK_RETENTION_DAYS` keep only what reports
count (their link, creator, time, country, unique and flagged marks) and lose what could single out
a visitor — the keyed hashes of their address and network, their user agent and referrer
(docs/guide/privacy.md). Reports do not move: the report totals count rows and marks, never the
hashes (their triggers do not fire on these columns, migration 0022).

Runs every `RETENTION_INTERVAL_SECONDS` in batches, so a first run over years of clicks
holds no long lock; replicas running it side by side skip each other's rows (SKIP LOCKED).
"""

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import utcnow
from shared.messaging.kafka import sleep_or_stop
from shared.tenancy import across_tenants

log = logging.getLogger(__name__)
BATCH = 5_000

_FORGET = text("""
    UPDATE attribution.clicks SET visitor_hash = NULL, network_hash = NULL, user_agent = NULL, referrer = NULL
    WHERE id IN (SELECT id FROM attribution.clicks
                 WHERE clicked_at < :cutoff
                   AND (visitor_hash IS NOT NULL OR network_hash IS NOT NULL OR user_agent IS NOT NULL
                        OR referrer IS NOT NULL)
                 LIMIT :batch FOR UPDATE SKIP LOCKED)
""")


async def forget_old_clicks(sessionmaker: async_sessionmaker[AsyncSession], days: int, *, batch: int = BATCH) -> int:
    """Clicks older than `days` stripped of what identifies their visitor, in batches: how many."""
    cutoff = utcnow() - timedelta(days=days)
    total = 0
    while True:
        async with sessionmaker() as session, session.begin():
            across_tenants(session, "retention applies to every tenant's clicks alike")
            done = (await session.execute(_FORGET, {"cutoff": cutoff, "batch": batch})).rowcount or 0
        total += done
        if done < batch:
            return total


class RetentionWorker:
    """Runs the retention job every `interval` seconds (fits `shared.app.Worker`)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], days: int, interval: float = 3_600):
        self.sessionmaker = sessionmaker
        self.days = days
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                forgotten = await forget_old_clicks(self.sessionmaker, self.days)
                if forgotten:
                    log.info("old clicks stripped of their visitor data", extra={"clicks": forgotten, "days": self.days})
            except (DBAPIError, OSError) as exc:
                log.warning("the retention job failed; it runs again later", extra={"error": repr(exc)})
            await sleep_or_stop(stop, self.interval)
