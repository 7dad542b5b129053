"""Per-credential limits shared by every gateway replica: tokens leased in batches from a
PostgreSQL bucket (docs/decisions/0014).

A replica never asks the database per request. It takes up to `lease` tokens from the shared
bucket in one statement (an upsert that refills the bucket for the time elapsed, hands out what
it holds, and returns how many), spends them locally, and asks again when they run out. Every
request a replica accepts was paid for by a token removed from the shared bucket, so from a full
bucket the replicas together accept at most `burst + rate × t` in `t` seconds; in any window,
at most `replicas × lease` more (tokens leased before it, spent in it). Leased tokens expire
after `2 × lease_seconds` (1 s at least), so a replica that went quiet strands at most one
lease for that long.

When the database cannot be reached, each replica enforces the plan on its own (the same
buckets, in memory) and tries the database again a second later: the gateway keeps answering,
and the limit is `replicas ×` the plan until the database is back.
"""

import asyncio
import logging
import math
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.traffic.limits import Decision, LocalLimiter, PlanLimit

log = logging.getLogger(__name__)

# One round trip, autocommit: refill for the time since the last lease (never backwards when two
# replicas' statements cross), hand out whole tokens up to `want`, keep the fraction. Every SET
# expression reads the row as it was (the newest committed version, locked by the upsert).
LEASE = text(
    """
    INSERT INTO gateway.rate_buckets AS b (key, tokens, granted, refilled_at)
    VALUES (:key, CAST(:burst AS float8) - LEAST(:want, :burst), LEAST(:want, :burst), now())
    ON CONFLICT (key) DO UPDATE SET
        granted = LEAST(:want, floor(LEAST(CAST(:burst AS float8),
            b.tokens + CAST(:rate AS float8) * GREATEST(0, extract(epoch FROM now() - b.refilled_at))))),
        tokens = LEAST(CAST(:burst AS float8),
            b.tokens + CAST(:rate AS float8) * GREATEST(0, extract(epoch FROM now() - b.refilled_at)))
            - LEAST(:want, floor(LEAST(CAST(:burst AS float8),
            b.tokens + CAST(:rate AS float8) * GREATEST(0, extract(epoch FROM now() - b.refilled_at))))),
        refilled_at = GREATEST(b.refilled_at, now())
    RETURNING granted, tokens
    """
)

# Unspent leased tokens are dropped after 2 × lease_seconds, and never sooner than this: a lease
# outliving a few requests is what saves the round trips.
MIN_LEASE_TTL_SECONDS = 1.0
# After the database failed, this long on the local buckets before trying it again.
RETRY_DATABASE_SECONDS = 1.0


class _Lease:
    """What this replica holds of one shared bucket."""

    __slots__ = ("tokens", "expires", "shared", "shared_at", "next_ask", "lock")

    def __init__(self) -> None:
        self.tokens = 0  # leased, not yet spent
        self.expires = 0.0
        self.shared = 0.0  # the shared bucket's tokens after the last lease
        self.shared_at = 0.0
        self.next_ask = 0.0  # not before: the shared bucket was empty
        self.lock = asyncio.Lock()


class SharedLimiter:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        lease_seconds: float = 0.5,
        timeout: float = 1.0,
        max_entries: int = 100_000,
        clock=time.monotonic,
    ):
        self.engine = engine
        self.lease_seconds = lease_seconds
        self.timeout = timeout
        self.max_entries = max_entries
        self.clock = clock
        self.fallback = LocalLimiter(max_entries, clock)
        self.round_trips = 0  # leases asked of the database, for bench/rate_limit.py
        self._leases: dict[str, _Lease] = {}
        self._database_back_at = 0.0

    def lease_size(self, limit: PlanLimit) -> int:
        """About `lease_seconds` of the plan's rate, and never more than a quarter of its burst,
        so one replica cannot drain a bucket the others share in one go."""
        # The epsilon: 0.1 s of 10/s is 1.0000000000000002 tokens in floating point, not 2.
        return max(1, min(math.ceil(limit.rate * self.lease_seconds - 1e-9), limit.burst // 4))

    def take_now(self, key: str, limit: PlanLimit) -> Decision | None:
        """The decision when it needs no database (a leased token, or a bucket known to be
        empty); None when `take` must ask."""
        lease = self._leases.get(key)
        if lease is None:
            return None
        now = self.clock()
        if lease.tokens >= 1 and now < lease.expires:
            lease.tokens -= 1
            return Decision(True, limit, lease.tokens + self._shared_estimate(lease, limit, now))
        if now < lease.next_ask:
            return Decision(False, limit, 0.0, lease.next_ask - now)
        return None

    async def take(self, key: str, limit: PlanLimit) -> Decision:
        decision = self.take_now(key, limit)
        if decision is not None:
            return decision
        if self.clock() < self._database_back_at:
            return self.fallback.take(key, limit)
        lease = self._leases.get(key)
        if lease is None:
            if len(self._leases) >= self.max_entries:
                self._forget_idle()
            lease = self._leases[key] = _Lease()
        async with lease.lock:
            # Another request of this key may have leased while this one waited for the lock.
            decision = self.take_now(key, limit)
            if decision is not None:
                return decision
            if self.clock() < self._database_back_at:  # it failed for the request before this one
                return self.fallback.take(key, limit)
            try:
                granted, shared = await asyncio.wait_for(self._lease(key, limit), self.timeout)
            except Exception as exc:  # noqa: BLE001 - any failure: the local limits take over
                self._database_failed(exc)
                return self.fallback.take(key, limit)
        if self._database_back_at:
            self._database_back_at = 0.0
            log.warning("rate limits: database reachable again; limits are shared across replicas again")
        now = self.clock()
        lease.shared, lease.shared_at = shared, now
        lease.expires = now + max(MIN_LEASE_TTL_SECONDS, 2 * self.lease_seconds)
        want = self.lease_size(limit)
        if granted < want:
            # The shared bucket is (nearly) empty: asking again before a lease's worth has
            # refilled would only cost round trips.
            lease.next_ask = now + (want - shared) / limit.rate
        if granted == 0:
            lease.tokens = 0
            return Decision(False, limit, shared, (1 - shared) / limit.rate)
        lease.tokens = granted - 1
        return Decision(True, limit, lease.tokens + shared)

    async def _lease(self, key: str, limit: PlanLimit) -> tuple[int, float]:
        self.round_trips += 1
        params = {"key": key, "rate": limit.rate, "burst": limit.burst, "want": self.lease_size(limit)}
        async with self.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            row = (await connection.execute(LEASE, params)).one()
        return int(row.granted), float(row.tokens)

    def _shared_estimate(self, lease: _Lease, limit: PlanLimit, now: float) -> float:
        return min(limit.burst, lease.shared + (now - lease.shared_at) * limit.rate)

    def _database_failed(self, exc: BaseException) -> None:
        if not self._database_back_at:
            # Once per outage: our own warnings are never thinned by the log's repeat filter.
            log.warning(
                "rate limits: database unreachable; each replica enforces the plans on its own",
                extra={"error": type(exc).__name__},
            )
        self._database_back_at = self.clock() + RETRY_DATABASE_SECONDS

    def _forget_idle(self) -> None:
        now = self.clock()
        idle = [key for key, lease in self._leases.items() if now >= lease.expires and not lease.lock.locked()]
        for key in idle:
            del self._leases[key]
        if len(self._leases) >= self.max_entries:
            self._leases.clear()
