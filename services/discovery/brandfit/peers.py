"""Median engagement rate per platform and tier, the peers a creator's ER is judged against.

A median over a million rows is a full scan (a few hundred milliseconds), so it is never taken
per request: `PeerMedians` keeps the last one in memory, refreshed by `PeerMediansRefresher` (a
background worker of the service) every `interval` seconds. A request only computes it itself
when it finds none yet (the service just started), or when a platform+tier it needs is missing
and the last refresh is older than `MISSING_RETRY` (a new group, e.g. the first mega creator on
Twitch): both are rare, and a request never waits on more than one refresh at a time.
"""

import asyncio
import logging
import time

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.messaging.kafka import sleep_or_stop

log = logging.getLogger(__name__)

MISSING_RETRY = 5.0

_MEDIANS = text(
    "SELECT platform, tier, percentile_cont(0.5) WITHIN GROUP (ORDER BY engagement_rate) AS median"
    " FROM discovery.creators WHERE engagement_rate IS NOT NULL AND tier IS NOT NULL GROUP BY platform, tier"
)


class PeerMedians:
    def __init__(self) -> None:
        self._medians: dict[tuple[str, str], float] = {}
        self._at: float | None = None
        self._lock = asyncio.Lock()

    def loaded(self) -> bool:
        return self._at is not None

    async def refresh(self, connection: AsyncSession | AsyncEngine) -> None:
        if isinstance(connection, AsyncEngine):
            async with connection.connect() as conn:
                result = await conn.execute(_MEDIANS)
        else:
            result = await connection.execute(_MEDIANS)
        self._medians = {(r.platform, r.tier): float(r.median) for r in result}
        self._at = time.monotonic()

    async def medians(self, session: AsyncSession, groups: set[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """The medians of `groups`, computing them first if there are none yet, or if one is missing
        and the last refresh is older than MISSING_RETRY."""
        if self._stale(groups):
            async with self._lock:
                if self._stale(groups):  # another request may have refreshed while this one waited
                    await self.refresh(session)
        return self._medians

    def _stale(self, groups: set[tuple[str, str]]) -> bool:
        if self._at is None:
            return True
        return any(g not in self._medians for g in groups) and time.monotonic() - self._at > MISSING_RETRY


# One per process: every request of the service reads the same medians.
peer_medians = PeerMedians()


class PeerMediansRefresher:
    """Recomputes `peer_medians` every `interval` seconds (fits `shared.app.Worker`)."""

    def __init__(self, engine: AsyncEngine, medians: PeerMedians = peer_medians, interval: float = 300):
        self.engine = engine
        self.medians = medians
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.medians.refresh(self.engine)
            except (DBAPIError, OSError) as exc:
                log.warning("refreshing peer engagement medians failed", extra={"error": repr(exc)})
            await sleep_or_stop(stop, self.interval)
