"""Accepting a verified delivery: claim its id, publish it to `gateway.webhook.v1` with
acks=all, and only then let the partner have its 200 (ADR 0015).

The claim (an INSERT into `webhook_deliveries`) and the publish share one database transaction:
- a publish that fails rolls the claim back, so the partner's retry is published;
- a concurrent delivery of the same id waits on the uncommitted claim, then finds it committed
  (200, nothing published) or rolled back (it publishes itself): never twice, never lost;
- a crash between the two leaves no claim behind.
If the commit itself fails after a publish, the partner retries and the event is published
again with the same event_id (uuid5 of source and delivery id), which consumers deduplicate.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass, field

from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from prometheus_client import Counter

from services.gateway.db import SERVICE
from services.gateway.webhooks.models import WebhookSource
from services.gateway.webhooks.repository import claim_delivery
from services.gateway.webhooks.schemas import DeliveryAccepted
from shared.app import ServiceContext
from shared.contracts.envelope import Envelope
from shared.contracts.gateway import SCHEMA_VERSION, WebhookReceived
from shared.db import utcnow
from shared.errors import LimelightError, Unavailable
from shared.messaging.kafka import KafkaProducerHandle
from shared.observability import current_correlation_id

log = logging.getLogger(__name__)

TOPIC = "gateway.webhook.v1"
EVENT_TYPE = "WebhookReceived"
# Fixed forever: event ids derived from it must stay the same across releases.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c2d8e-5b7a-4e0f-9a3d-2c4b8e1f7a60")


# Beside http_requests_total (which has the status codes): tells a published 200 from a duplicate.
DELIVERIES = Counter(
    "gateway_webhook_deliveries_total", "Verified partner webhook deliveries", ["kind", "outcome"]
)


class PayloadTooLarge(LimelightError):
    status_code = 413
    error = "payload_too_large"


@dataclass(frozen=True)
class Delivery:
    """A delivery whose signature has been verified. `body` is the raw bytes, untouched."""

    source: WebhookSource
    delivery_id: str
    # The delivery as its signature covers it: claimed beside the (unsigned) delivery id, so the
    # same signed delivery under a new id is a duplicate too. Up to 200 characters.
    fingerprint: str
    topic: str | None
    partner_id: str
    body: str
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def event_id(source_id: uuid.UUID, delivery_id: str) -> uuid.UUID:
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{source_id}/{delivery_id}")


def _record(delivery: Delivery, event: uuid.UUID) -> bytes:
    source = delivery.source
    envelope = Envelope[WebhookReceived](
        event_id=event,
        event_type=EVENT_TYPE,
        schema_version=SCHEMA_VERSION,
        occurred_at=utcnow(),
        producer=SERVICE,
        tenant_id=source.tenant_id,
        aggregate_id=str(source.id),
        correlation_id=current_correlation_id(),
        payload=WebhookReceived(
            delivery_id=delivery.delivery_id,
            partner_id=delivery.partner_id,
            source=source.kind,  # type: ignore[arg-type]
            source_id=source.id,
            topic=delivery.topic,
            received_at=utcnow(),
            content_type=delivery.content_type,
            body=delivery.body,
            headers=delivery.headers,
        ),
    )
    return envelope.model_dump_json().encode()


# Resets run beside the request (stopping a producer flushes, which can take the whole request
# timeout with the broker gone); the set keeps each task referenced until it ends.
_resets: set[asyncio.Task] = set()


async def publish(kafka: KafkaProducerHandle, key: bytes, value: bytes, timeout: float) -> None:
    """Send and wait for acks=all; a broker that is away or slow is a 503 the partner retries."""
    producer = None
    try:
        async with asyncio.timeout(timeout):
            producer = await kafka.get()
            await producer.send_and_wait(
                TOPIC,
                key=key,
                value=value,
                headers=[("event_type", EVENT_TYPE.encode()), *_correlation_header()],
            )
    except MessageSizeTooLargeError as exc:
        raise PayloadTooLarge("this delivery is larger than the event broker accepts") from exc
    except (KafkaError, TimeoutError, OSError) as exc:
        if producer is not None:
            task = asyncio.create_task(kafka.reset(producer))
            _resets.add(task)
            task.add_done_callback(_resets.discard)
        raise Unavailable("the event broker is unavailable; retry this delivery") from exc


def _correlation_header() -> list[tuple[str, bytes]]:
    correlation = current_correlation_id()
    return [("correlation_id", correlation.encode())] if correlation else []


async def accept(ctx: ServiceContext, delivery: Delivery, timeout: float) -> DeliveryAccepted:
    """Publish `delivery` once per (source, delivery id); see the module docstring."""
    source = delivery.source
    event = event_id(source.id, delivery.delivery_id)
    async with ctx.sessionmaker() as session, session.begin():
        if not await claim_delivery(session, source.id, delivery.delivery_id):
            status = "duplicate"
        elif delivery.fingerprint != delivery.delivery_id and not await claim_delivery(
            session, source.id, delivery.fingerprint
        ):
            status = "duplicate"
        else:
            await publish(ctx.kafka, str(source.id).encode(), _record(delivery, event), timeout)
            status = "accepted"
    DELIVERIES.labels(source.kind, status).inc()
    # Ids and the partner's topic only: a body (a privacy request's above all) is never logged.
    log.info(
        "webhook %s", status,
        extra={"source_id": str(source.id), "delivery_id": delivery.delivery_id, "webhook_topic": delivery.topic},
    )
    return DeliveryAccepted(status=status, delivery_id=delivery.delivery_id, event_id=event)  # type: ignore[arg-type]
