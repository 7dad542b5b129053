"""The receivers' view of a webhook source, kept in memory for a few seconds (ADR 0038).

Without it every delivery costs a database query (source joined with its tenant) and one or two
Fernet decryptions before its signature can even be checked. With it, a busy source costs those
once per `ttl`. What a change takes to reach the receivers:
- a change made through this gateway process (`/v1/webhook-sources`: update, disable, rotate,
  delete) empties the cache once its transaction has committed (`SourceCache.forget_all`), so
  the next delivery here reads the new state;
- a change made elsewhere (another replica, a tenant disabled by the operator) reaches this
  process within `ttl` seconds (GATEWAY_WEBHOOK_SOURCE_CACHE_SECONDS, 5 by default; 0 turns the
  cache off). A rotation's grace period (24 h by default) dwarfs that; a deleted or disabled
  source keeps being accepted by another replica for at most `ttl`.
A source that is not found is never cached: a source created on another replica works there at
once, and a flood of made-up ids is the per-address failure limit's job, not the cache's.
"""

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request

from services.gateway.webhooks.models import WebhookSource
from services.gateway.webhooks.repository import source_for_delivery
from services.gateway.webhooks.vault import Vault
from shared.db import Reads


@dataclass(frozen=True, slots=True)
class ReceivingSource:
    """What a receiver needs of a source: who it is and the secrets a delivery may be signed with
    (decrypted; never in a repr, so never in a log line or a traceback)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    kind: str
    name: str
    shop_domain: str | None
    secret: str = field(repr=False)
    previous_secret: str | None = field(repr=False)
    previous_secret_expires_at: datetime | None

    @classmethod
    def of(cls, source: WebhookSource, vault: Vault) -> "ReceivingSource":
        previous = source.previous_secret_encrypted
        return cls(
            id=source.id,
            tenant_id=source.tenant_id,
            kind=source.kind,
            name=source.name,
            shop_domain=source.shop_domain,
            secret=vault.decrypt(source.secret_encrypted),
            previous_secret=vault.decrypt(previous) if previous is not None else None,
            previous_secret_expires_at=source.previous_secret_expires_at,
        )

    def accepted_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one until its grace period ends (checked against
        `now` on every delivery, so a cached source stops accepting it on time)."""
        accepted = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret is not None and expires is not None and now < expires:
            accepted.append(self.previous_secret)
        return accepted


class SourceCache:
    """Enabled sources by (id, kind), each for `ttl` seconds. Per process, bounded to
    `max_entries` (past it the cache starts over: a miss costs one query)."""

    def __init__(self, ttl: float, *, max_entries: int = 10_000, clock=time.monotonic):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[tuple[uuid.UUID, str], tuple[float, ReceivingSource]] = {}
        # Bumped by forget_all: a lookup that began before a change committed must not store what
        # it read, or the state the change replaced would be served for another `ttl`.
        self._generation = 0

    async def get(self, reads: Reads, vault: Vault, source_id: uuid.UUID, kind: str) -> ReceivingSource | None:
        key = (source_id, kind)
        entry = self._entries.get(key)
        if entry is not None and self.clock() < entry[0]:
            return entry[1]
        generation, expires = self._generation, self.clock() + self.ttl
        row = await source_for_delivery(reads, source_id, kind)
        if row is None:
            return None
        found = ReceivingSource.of(row, vault)
        if self.ttl > 0 and generation == self._generation:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (expires, found)
        return found

    def forget_all(self) -> None:
        """Called once a change to any source has committed in this process."""
        self._generation += 1
        self._entries.clear()


def app_source_cache(request: Request) -> SourceCache:
    """The app's cache, made on first use with GATEWAY_WEBHOOK_SOURCE_CACHE_SECONDS."""
    cache = getattr(request.app.state, "webhook_source_cache", None)
    if cache is None:
        ttl = request.app.state.ctx.settings.gateway_webhook_source_cache_seconds
        cache = request.app.state.webhook_source_cache = SourceCache(ttl)
    return cache
