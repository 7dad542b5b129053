"""API key and tenant lookups, cached per replica, with revocations reaching every replica in
seconds.

A proxied request must not cost a database round trip to authenticate, so each gateway replica
keeps the keys it has seen in memory. Each replica polls the keys and tenants changed since its
last look (every `poll_interval`, 1 s by default) and forgets them, so a revoked or expired key,
or a disabled tenant, is refused everywhere within about two poll intervals; a cached entry is
also re-read after `ttl` whatever happens. Unknown keys are remembered briefly too, so a flood
of made-up keys does not become a flood of queries. Tenants are cached the same way for JWTs,
which name their tenant but have no key row (`tenant()`).
"""

import asyncio
import dataclasses
import logging
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.identity import keys
from services.gateway.identity.models import ApiKey, Tenant
from shared.errors import Unauthorized
from shared.identity import Identity
from shared.messaging.kafka import sleep_or_stop

log = logging.getLogger(__name__)

# A change is looked for this far behind the last poll: a transaction that stamped updated_at
# before the previous poll but committed after it is still seen.
OVERLAP = timedelta(seconds=10)


@dataclasses.dataclass(frozen=True, slots=True)
class CachedKey:
    identity: Identity | None  # None: no such key
    key_id: uuid.UUID | None
    expires_at: datetime | None
    revoked: bool
    tenant_disabled: bool
    fetched: float


@dataclasses.dataclass(frozen=True, slots=True)
class CachedTenant:
    tenant_id: uuid.UUID
    exists: bool
    plan: str
    operator: bool
    disabled: bool
    fetched: float


class KeyStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl: float = 30.0,
        negative_ttl: float = 2.0,
        poll_interval: float = 1.0,
        max_entries: int = 100_000,
    ):
        self.engine = engine
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.poll_interval = poll_interval
        self.max_entries = max_entries
        self._cache: dict[bytes, CachedKey] = {}
        self._by_id: dict[uuid.UUID, bytes] = {}
        self._tenants: dict[uuid.UUID, CachedTenant] = {}
        self._used: set[uuid.UUID] = set()
        self._watermark: datetime | None = None

    async def authenticate(self, key: str) -> Identity:
        """The identity of `key`, or Unauthorized saying why (never which part was wrong)."""
        if not keys.looks_like_key(key):
            raise Unauthorized("malformed API key")
        digest = keys.digest(key)
        entry = self._cache.get(digest)
        now = time.monotonic()
        if entry is None or now - entry.fetched > (self.ttl if entry.identity else self.negative_ttl):
            entry = await self._load(digest)
        if entry.identity is None:
            raise Unauthorized("unknown API key")
        if entry.revoked:
            raise Unauthorized("this API key was revoked")
        if entry.tenant_disabled:
            raise Unauthorized("this workspace is disabled")
        if entry.expires_at is not None and entry.expires_at.timestamp() <= time.time():
            raise Unauthorized("this API key has expired")
        self._used.add(entry.key_id)
        return entry.identity

    async def _load(self, digest: bytes) -> CachedKey:
        query = (
            select(
                ApiKey.id, ApiKey.tenant_id, ApiKey.scopes, ApiKey.expires_at, ApiKey.revoked_at,
                Tenant.plan, Tenant.operator, Tenant.disabled_at,
            )
            .join(Tenant, Tenant.id == ApiKey.tenant_id)
            .where(ApiKey.secret_hash == digest)
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            entry = CachedKey(None, None, None, False, False, time.monotonic())
        else:
            identity = Identity(
                tenant_id=row.tenant_id,
                subject=f"key:{row.id}",
                scopes=frozenset(row.scopes),
                key_id=str(row.id),
                operator=row.operator,
                plan=row.plan,
            )
            entry = CachedKey(
                identity, row.id, row.expires_at, row.revoked_at is not None, row.disabled_at is not None, time.monotonic()
            )
            self._by_id[row.id] = digest
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
            self._by_id.clear()
        self._cache[digest] = entry
        return entry

    async def tenant(self, tenant_id: uuid.UUID) -> CachedTenant:
        """What the gateway knows of `tenant_id` (exists=False when there is no such tenant)."""
        entry = self._tenants.get(tenant_id)
        now = time.monotonic()
        if entry is None or now - entry.fetched > (self.ttl if entry.exists else self.negative_ttl):
            query = select(Tenant.plan, Tenant.operator, Tenant.disabled_at).where(Tenant.id == tenant_id)
            async with self.engine.connect() as connection:
                row = (await connection.execute(query)).first()
            if row is None:
                entry = CachedTenant(tenant_id, False, "", False, False, time.monotonic())
            else:
                entry = CachedTenant(
                    tenant_id, True, row.plan, row.operator, row.disabled_at is not None, time.monotonic()
                )
            if len(self._tenants) >= self.max_entries:
                self._tenants.clear()
            self._tenants[tenant_id] = entry
        return entry

    def forget_tenant(self, tenant_id: uuid.UUID) -> None:
        self._tenants.pop(tenant_id, None)
        for digest, entry in list(self._cache.items()):
            if entry.identity is not None and entry.identity.tenant_id == tenant_id:
                self._cache.pop(digest, None)

    def forget_key(self, key_id: uuid.UUID) -> None:
        digest = self._by_id.pop(key_id, None)
        if digest is not None:
            self._cache.pop(digest, None)

    async def poll_once(self) -> None:
        """Forget what changed since the last poll; record which keys were used."""
        async with self.engine.begin() as connection:
            now = (await connection.execute(select(func.now()))).scalar_one()
            since = (self._watermark - OVERLAP) if self._watermark else now
            if self._watermark is not None:
                for (key_id,) in await connection.execute(select(ApiKey.id).where(ApiKey.updated_at >= since)):
                    self.forget_key(key_id)
                for (tenant_id,) in await connection.execute(select(Tenant.id).where(Tenant.updated_at >= since)):
                    self.forget_tenant(tenant_id)
            self._watermark = now
            used, self._used = self._used, set()
            if used:
                # last_used_at is informational: written in batches, never per request, and
                # without touching updated_at (that would evict the keys from every cache).
                await connection.execute(
                    update(ApiKey).where(ApiKey.id.in_(used)).values(last_used_at=now)
                )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception as exc:  # the cache keeps serving; entries still expire by ttl
                log.warning("key cache poll failed", extra={"error": type(exc).__name__})
            await sleep_or_stop(stop, self.poll_interval)
