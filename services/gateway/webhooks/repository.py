"""Queries for webhook sources and accepted delivery ids.

`Sources` is the only way the management API reaches the table, and every statement it builds
starts from `_owned()`, filtered by the caller's tenant: another tenant's source is simply not
found (404), whether its id was guessed or leaked. The receivers look a source up by id alone
(`source_for_delivery`): they have no caller identity, the source id in the URL is what names
the tenant, and the signature is what proves the sender.
"""

import uuid
from datetime import datetime

from sqlalchemy import Select, String, bindparam, column, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from services.gateway.identity.models import Tenant
from services.gateway.webhooks.models import WebhookDelivery, WebhookSource
from shared.db import Reads
from shared.housekeeping import delete_expired
from shared.pagination import PageParams, keyset


class Sources:
    """The webhook sources of one tenant."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID):
        self.session = session
        self.tenant_id = tenant_id

    def _owned(self) -> Select:
        return select(WebhookSource).where(WebhookSource.tenant_id == self.tenant_id)

    async def add(self, source: WebhookSource) -> WebhookSource:
        source.tenant_id = self.tenant_id
        self.session.add(source)
        await self.session.flush()
        await self.session.refresh(source)
        return source

    async def get(self, source_id: uuid.UUID, *, for_update: bool = False) -> WebhookSource | None:
        query = self._owned().where(WebhookSource.id == source_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(self, page: PageParams) -> list[WebhookSource]:
        """Up to page.limit + 1 sources, oldest first."""
        return list((await self.session.execute(keyset(self._owned(), WebhookSource, page))).scalars())

    async def remove(self, source: WebhookSource) -> None:
        if source.tenant_id != self.tenant_id:  # only objects this repository returned
            raise ValueError("not this tenant's source")
        await self.session.delete(source)
        await self.session.flush()


_FOR_DELIVERY = (
    select(WebhookSource)
    .join(Tenant, Tenant.id == WebhookSource.tenant_id)
    .where(WebhookSource.disabled_at.is_(None), Tenant.disabled_at.is_(None))
)


async def source_for_delivery(reads: Reads, source_id: uuid.UUID, kind: str) -> WebhookSource | None:
    """An enabled source of `kind` whose tenant is enabled, or None (the receiver's 404)."""
    query = _FOR_DELIVERY.where(WebhookSource.id == source_id, WebhookSource.kind == kind)
    return (await reads.scalars(query)).one_or_none()


def _claim_statement():
    """The claim, built once: the keys come as two arrays (one statement text and one compiled
    form whatever the batch's size; a VALUES list of the keys themselves was compiled afresh for
    every batch). Only keys whose source still exists (its row key-share locked, so a concurrent
    delete waits or has happened): a delivery for a source deleted a moment ago (another replica's
    cache still had it) is not claimed, instead of failing the whole batch's INSERT on the foreign
    key. Inserted in key order whatever the join's plan (a hash join over many keys reverses them):
    claims of one source never queue on its row, so two overlapping batches inserting in different
    orders could deadlock on each other's keys."""
    wanted = func.unnest(
        bindparam("source_ids", type_=ARRAY(PG_UUID(as_uuid=True))), bindparam("delivery_ids", type_=ARRAY(String)),
    ).table_valued(column("source_id", PG_UUID(as_uuid=True)), column("delivery_id", String)).render_derived(name="wanted")
    existing = (
        select(wanted.c.source_id, wanted.c.delivery_id)
        .select_from(wanted.join(WebhookSource, WebhookSource.id == wanted.c.source_id))
        .order_by(wanted.c.source_id, wanted.c.delivery_id)
        .with_for_update(read=True, key_share=True, of=WebhookSource)  # FOR KEY SHARE: claims never wait on each other
    )
    return (
        insert(WebhookDelivery)
        .from_select(["source_id", "delivery_id"], existing)
        .on_conflict_do_nothing()
        .returning(WebhookDelivery.source_id, WebhookDelivery.delivery_id)
    )


_CLAIM = _claim_statement()


async def claim_deliveries(connection: AsyncConnection, keys: list[tuple[uuid.UUID, str]]) -> set[tuple[uuid.UUID, str]]:
    """Record each (source id, delivery id) of `keys` as accepted in the caller's still open
    transaction, with one statement (`_claim_statement`); returns those that were not already. A
    key that a concurrent transaction has claimed but not committed waits for it, then is found
    (commit) or taken (rollback). Rows are inserted, so locked, in key order."""
    if not keys:
        return set()
    found = await connection.execute(
        _CLAIM, {"source_ids": [k[0] for k in keys], "delivery_ids": [k[1] for k in keys]})
    return {(row.source_id, row.delivery_id) for row in found}


async def missing_sources(connection: AsyncConnection, source_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `source_ids` that no longer exist (deleted since the delivery's source was read)."""
    found = await connection.execute(select(WebhookSource.id).where(WebhookSource.id.in_(source_ids)))
    return source_ids - {row.id for row in found}


async def release_deliveries(connection: AsyncConnection, keys: list[tuple[uuid.UUID, str]]) -> None:
    """Undo `claim_deliveries` for `keys`, in the same transaction (a duplicate's other key, a
    delivery whose publish failed)."""
    await connection.execute(
        delete(WebhookDelivery).where(tuple_(WebhookDelivery.source_id, WebhookDelivery.delivery_id).in_(keys))
    )


async def prune_deliveries(sessionmaker: async_sessionmaker[AsyncSession], older_than: datetime) -> int:
    """Forget delivery ids accepted before `older_than`; returns how many."""
    return await delete_expired(
        sessionmaker,
        WebhookDelivery.__table__,
        WebhookDelivery.received_at < older_than,
        lock="gateway.webhook_deliveries",
    )
