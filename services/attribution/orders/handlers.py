"""Attribution's consumer of `gateway.webhook.v1`: each verified partner delivery becomes orders,
refunds and cancellations (orders/service.py) in the same transaction as its processed-event
record, so a redelivery changes nothing. A delivery that cannot be read is dead-lettered with
the field and the reason (`runtime dlq` shows them)."""

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.config import CLICK_RETENTION_DAYS
from services.attribution.db import SERVICE, ProcessedEvent, outbox
from services.attribution.orders import batch, service
from services.attribution.orders.model import CustomerKey, PayloadError, customer_hash
from services.attribution.privacy import service as privacy
from shared.app import ServiceContext
from shared.clicks.visitor import VisitorHasher
from shared.contracts.envelope import Envelope
from shared.contracts.gateway import WebhookReceived
from shared.contracts.privacy import PrivacyRequested
from shared.privacy import privacy_consumer as privacy_consumer_of
from shared.messaging.consumer import IdempotentConsumer, PoisonMessage, Subscription

log = logging.getLogger(__name__)
WEBHOOK_TOPIC = "gateway.webhook.v1"


class Deliveries:
    def __init__(self, customer_key: CustomerKey, token_key: bytes | None = None,
                 retention_days: int = CLICK_RETENTION_DAYS):
        self.customer_key = customer_key
        self.token_key = token_key  # opens the click ids orders carry (shared/clicks/token.py)
        self.retention_days = retention_days

    async def prepare(self, session: AsyncSession, events: list[Envelope[WebhookReceived]]) -> None:
        """What the batch's deliveries ask of the database, asked once for all of them (orders/batch.py)."""
        # The order path's statements are index lookups whose best plan does not change with the
        # values; left to choose, PostgreSQL planned most of them afresh on every execution (a
        # third of its CPU per order). For this transaction only (ADR 0063).
        await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        # New orders are inserted together, ahead of their turn, up to the batch's first privacy
        # request: an erasure must not find an order that arrived after it (orders/batch.py).
        privacy_at = next((i for i, event in enumerate(events) if service.is_privacy(event.payload)), len(events))
        await batch.prepare(session, [(event.tenant_id, event.payload) for event in events
                                      if not service.is_privacy(event.payload)],
                            lambda delivery: service.parse(delivery, self.customer_key),
                            new_order_row=service.new_order_rows(self.token_key), insert_before=privacy_at)

    async def finish(self, session: AsyncSession) -> None:
        """The batch's deferred writes (orders/batch.py), before its commit."""
        await batch.finish(session, outbox)

    async def received(self, session: AsyncSession, event: Envelope[WebhookReceived]) -> None:
        try:
            await service.apply_delivery(
                session, event.tenant_id, event.payload, self.customer_key, self.token_key, self.retention_days)
        except PayloadError as exc:
            delivery = event.payload
            raise PoisonMessage(
                f"{delivery.source} delivery {delivery.delivery_id} ({delivery.topic or 'no topic'}): {exc.field}: {exc.reason}"
            ) from None


def _customer_key(ctx: ServiceContext, what: str) -> CustomerKey | None:
    """The keyed hash of customers, or None (logged as an error: `what` is not consumed) when
    ATTRIBUTION_HASH_KEY is not set: a customer could not be hashed as orders are."""
    key = getattr(ctx.settings, "attribution_hash_key", None)
    if key is None or len(key.get_secret_value()) < 16:
        log.error(f"ATTRIBUTION_HASH_KEY is not set (or shorter than 16 characters): {what} are not consumed")
        return None
    return customer_hash(key.get_secret_value().encode())


def order_consumer(ctx: ServiceContext) -> IdempotentConsumer | None:
    """The consumer, or None (logged as an error) when ATTRIBUTION_HASH_KEY is not set."""
    key = _customer_key(ctx, "partner orders")
    if key is None:
        return None
    handlers = Deliveries(key, VisitorHasher(ctx.settings.attribution_hash_key.get_secret_value().encode()).token_key,
                          ctx.settings.click_retention_days)
    return IdempotentConsumer(
        consumer=SERVICE,
        group_id="attribution.orders",
        subscriptions=[Subscription(WEBHOOK_TOPIC, "WebhookReceived", handlers.received, handlers.prepare,
                                    handlers.finish)],
        sessionmaker=ctx.sessionmaker,
        processed_model=ProcessedEvent,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        dead_letters=ctx.kafka,
        max_attempts=ctx.settings.consumer_max_attempts,
        # At the broker's default 500 ms, a steady 150 orders/s came in batches that alternated
        # between ~100 records and 1-3, the fetch after each small one held for up to ~0.5 s:
        # p50 0.8-1.0 s, p99 1.6-1.8 s to the ledger. At 50 ms: p50 0.38 s, p99 0.77 s (ADR 0063).
        fetch_max_wait_ms=50,
    )


class PrivacyRequests:
    def __init__(self, customer_key: CustomerKey):
        self.customer_key = customer_key

    async def requested(self, session: AsyncSession, event: Envelope[PrivacyRequested]) -> None:
        if event.tenant_id is None:
            raise PoisonMessage(f"privacy request {event.payload.request_id} names no workspace")
        await privacy.act(session, event.tenant_id, event.payload, self.customer_key)


def privacy_consumer(ctx: ServiceContext) -> IdempotentConsumer | None:
    """Data-subject requests (ADR 0054); None (logged) without ATTRIBUTION_HASH_KEY, as orders."""
    key = _customer_key(ctx, "privacy requests")
    if key is None:
        return None
    return privacy_consumer_of(ctx, SERVICE, ProcessedEvent, PrivacyRequests(key).requested)
