"""What each service keeps of a data-subject request it acted on: the receipt (docs/decisions/0054).

Every service that consumes `gateway.privacy.v1` keeps one receipt per request in its own schema
(a tenant-owned `privacy_receipts` table: the requesting workspace's), written in the same
transaction as what it did and its processed-event record, so a redelivered request does nothing
twice and its receipt never claims what was not done. The service serves it at
`GET /privacy/receipts/{request_id}` (`admin` scope; through the gateway,
`/v1/<service>/privacy/receipts/{id}`), and the gateway's `GET /v1/privacy/requests/{id}` shows
every service's together.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import DateTime, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.messaging.consumer import IdempotentConsumer, PoisonMessage, Subscription
from shared.tenancy import acting_for, across_tenants

Done = Literal["deleted", "anonymised", "exported", "kept", "none held"]


class ReceiptAction(BaseModel):
    what: str = Field(description="The records, in words: 'orders', 'follower samples', 'the creator's posts'.")
    done: Done
    count: int = Field(ge=0)
    note: str | None = Field(default=None, description="Why, where it is not obvious (e.g. amounts kept for the ledger).")


class ReceiptRead(BaseModel):
    request_id: uuid.UUID
    service: str
    kind: Literal["export", "erasure"]
    subject_type: Literal["customer", "creator"]
    origin: Literal["api", "shopify"]
    actions: list[ReceiptAction]
    export: dict | None = Field(description="For an export: the data this service holds about the subject.")
    completed_at: datetime


class ReceiptColumns:
    """The receipt's columns, one shape in every service: `class PrivacyReceipt(ReceiptColumns,
    TenantOwned, Base)` with `__tablename__ = "privacy_receipts"` (each service's migration makes
    the table in its schema)."""

    request_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, comment="The gateway's request id.")
    kind: Mapped[str] = mapped_column(String(16), comment="export | erasure")
    subject_type: Mapped[str] = mapped_column(String(16), comment="customer | creator")
    origin: Mapped[str] = mapped_column(String(16), comment="api | shopify (a store's privacy webhook)")
    actions: Mapped[list] = mapped_column(JSONB, comment="What was done, per kind of record, with counts.")
    export: Mapped[dict | None] = mapped_column(JSONB, comment="For an export: the data held about the subject.")
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def read_receipt(row: Any, service: str) -> ReceiptRead:
    """A stored receipt (a ReceiptColumns row) as the API shows it."""
    return ReceiptRead(request_id=row.request_id, service=service, kind=row.kind, subject_type=row.subject_type,
                       origin=row.origin, actions=row.actions, export=row.export, completed_at=row.completed_at)


PUBLISHED_NOTE = "events already published expire with their topic's retention"
NONE_HELD = [ReceiptAction(what="shopper data", done="none held", count=0)]

CreatorWork = Callable[[AsyncSession, uuid.UUID], Awaitable[Any]]


async def act_on_creator_data(session: AsyncSession, event: Any, receipt_model: type, *, export_creator: CreatorWork,
                              erase_creator: CreatorWork, across: str) -> None:
    """What a service that holds creators' data but no shopper's does with a request (discovery,
    audit): unless its receipt exists already, export or erase the creator in every workspace
    (`across` says why), or say a shopper's data is none held; then write the receipt, under the
    asking workspace. `export_creator` returns (actions, export), `erase_creator` actions."""
    request = event.payload
    if event.tenant_id is None:
        raise PoisonMessage("a privacy request names the workspace that asked (the envelope's tenant_id)")
    if request.subject.type == "creator" and request.subject.creator_id is None:
        raise PoisonMessage("a creator's privacy request names the creator (subject.creator_id)")
    with acting_for(session, event.tenant_id):
        if await session.get(receipt_model, request.request_id) is not None:
            return  # the gateway sent the request again: acted on already
    export: dict | None = None
    if request.subject.type == "customer":
        actions, export = NONE_HELD, {} if request.kind == "export" else None
    else:
        # acting_for puts the event's workspace back once this work is done.
        with acting_for(session, event.tenant_id):
            across_tenants(session, across)
            if request.kind == "export":
                actions, export = await export_creator(session, request.subject.creator_id)
            else:
                actions = await erase_creator(session, request.subject.creator_id)
    with acting_for(session, event.tenant_id):
        session.add(receipt_model(
            request_id=request.request_id, kind=request.kind, subject_type=request.subject.type, origin=request.origin,
            actions=[a.model_dump(mode="json") for a in actions], export=export, completed_at=datetime.now(UTC)))
        await session.flush()


TOPIC = "gateway.privacy.v1"


def privacy_consumer(ctx: Any, consumer: str, processed_model: type, handler: Callable) -> IdempotentConsumer:
    """A service's consumer of `gateway.privacy.v1` (group `<consumer>.privacy`): `handler(session,
    event)` acts on each request in the transaction of its processed-event record."""
    return IdempotentConsumer(
        consumer=consumer,
        group_id=f"{consumer}.privacy",
        subscriptions=[Subscription(TOPIC, "PrivacyRequested", handler)],
        sessionmaker=ctx.sessionmaker,
        processed_model=processed_model,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        dead_letters=ctx.kafka,
        max_attempts=ctx.settings.consumer_max_attempts,
    )
