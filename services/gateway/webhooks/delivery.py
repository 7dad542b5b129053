"""Accepting a verified delivery: claim its id, publish it to `gateway.webhook.v1` with
acks=all, and only then let the partner have its 200 (ADR 0015, ADR 0038).

The claim (one INSERT into `webhook_deliveries` of the delivery id and, when it differs, the
signed content's fingerprint) and the publish share one database transaction:
- a publish that fails rolls the claim back, so the partner's retry is published;
- a delivery with either key already claimed is a duplicate: its transaction rolls back, so
  only accepted deliveries leave keys behind;
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
from fastapi import Request
from prometheus_client import Counter

from services.gateway.db import SERVICE
from services.gateway.webhooks.cache import ReceivingSource
from services.gateway.webhooks.repository import claim_deliveries, missing_sources, release_deliveries
from services.gateway.webhooks.schemas import DeliveryAccepted
from shared.app import ServiceContext
from shared.contracts.envelope import Envelope
from shared.contracts.gateway import SCHEMA_VERSION, WebhookReceived
from shared.db import utcnow
from shared.errors import LimelightError, NotFound, Unavailable
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

    source: ReceivingSource
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


# Parametrised once: `Envelope[WebhookReceived]` in the request path looked the generic model up
# again on every delivery (a measurable share of its CPU, bench/gateway_webhooks.py).
WebhookEnvelope = Envelope[WebhookReceived]


def _record(delivery: Delivery, event: uuid.UUID) -> bytes:
    source = delivery.source
    envelope = WebhookEnvelope(
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


async def publish(
    kafka: KafkaProducerHandle, key: bytes, value: bytes, headers: list[tuple[str, bytes]], timeout: float
) -> None:
    """Send and wait for acks=all; a broker that is away or slow is a 503 the partner retries."""
    producer = None
    try:
        async with asyncio.timeout(timeout):
            producer = await kafka.get()
            await producer.send_and_wait(TOPIC, key=key, value=value, headers=headers)
    except MessageSizeTooLargeError as exc:
        raise PayloadTooLarge("this delivery is larger than the event broker accepts") from exc
    except (KafkaError, TimeoutError, OSError) as exc:
        if producer is not None:
            task = asyncio.create_task(kafka.reset(producer))
            _resets.add(task)
            task.add_done_callback(_resets.discard)
        raise Unavailable("the event broker is unavailable; retry this delivery") from exc


def _headers() -> list[tuple[str, bytes]]:
    correlation = current_correlation_id()
    return [("event_type", EVENT_TYPE.encode())] + ([("correlation_id", correlation.encode())] if correlation else [])


@dataclass(eq=False)
class _Pending:
    """A verified delivery waiting for its batch: its claim keys, its record (made in the
    request, so that it carries the request's correlation id) and the future of its outcome."""

    delivery: Delivery
    keys: list[tuple[uuid.UUID, str]]
    value: bytes
    headers: list[tuple[str, bytes]]
    outcome: asyncio.Future


class Acceptor:
    """Claims and publishes deliveries in batches (ADR 0038). A delivery that arrives while fewer
    than `flushes` batches are under way starts one at once; one that arrives while all are
    busy joins the next (at most `batch` deliveries each). So an idle gateway answers as fast as
    with a transaction per delivery, and a busy one pays one transaction (one commit, one
    connection) and one Kafka round trip per batch instead of per delivery.

    Per batch, in one transaction: one INSERT of every delivery's keys, sorted (two batches lock
    shared keys in the same order, so they never deadlock); a delivery with any key already
    claimed is a duplicate and the keys it did claim are deleted again; the others are published
    together (acks=all) and those whose publish failed have their keys deleted; then the commit,
    and only then each delivery's answer. A delivery sharing a key with an earlier one of the
    same batch waits for the next batch, as it would have waited on the earlier one's
    uncommitted claim."""

    # Two batches in flight: measured (bench/gateway_webhooks.py, 32 senders) 1 → 370/s, 2 → 368/s,
    # 4 → 291/s, 16 → 208/s: fewer, larger batches cost less CPU per delivery; two rather than
    # one, so that a batch waiting on a lock or a slow acknowledgement does not stop the rest.
    def __init__(self, ctx: ServiceContext, timeout: float, *, flushes: int = 2, batch: int = 256):
        self.ctx = ctx
        self.timeout = timeout
        self.flushes = flushes
        self.batch = batch
        self._queue: list[_Pending] = []
        self._running: set[asyncio.Task] = set()

    async def accept(self, delivery: Delivery) -> DeliveryAccepted:
        """Publish `delivery` once per (source, delivery id); see the module docstring."""
        source = delivery.source
        event = event_id(source.id, delivery.delivery_id)
        keys = [(source.id, delivery.delivery_id)]
        if delivery.fingerprint != delivery.delivery_id:
            keys.append((source.id, delivery.fingerprint))
        pending = _Pending(
            delivery, keys, _record(delivery, event), _headers(), asyncio.get_running_loop().create_future()
        )
        self._queue.append(pending)
        self._start()
        # Shielded: a partner that hangs up does not cancel its batch; its retry finds the outcome.
        status = await asyncio.shield(pending.outcome)
        DELIVERIES.labels(source.kind, status).inc()
        # Ids and the partner's topic only: a body (a privacy request's above all) is never logged.
        log.info(
            "webhook %s", status,
            extra={"source_id": str(source.id), "delivery_id": delivery.delivery_id, "webhook_topic": delivery.topic},
        )
        return DeliveryAccepted(status=status, delivery_id=delivery.delivery_id, event_id=event)  # type: ignore[arg-type]

    def _start(self) -> None:
        while self._queue and len(self._running) < self.flushes:
            batch, self._queue = self._queue[: self.batch], self._queue[self.batch :]
            task = asyncio.create_task(self._flush(batch))
            self._running.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._start()

    async def _flush(self, batch: list[_Pending]) -> None:
        owners: dict[tuple[uuid.UUID, str], _Pending] = {}
        mine: list[_Pending] = []
        later: list[_Pending] = []
        for pending in batch:
            if any(key in owners for key in pending.keys):
                later.append(pending)
                continue
            owners.update((key, pending) for key in pending.keys)
            mine.append(pending)
        outcomes: dict[_Pending, str | BaseException] = {}
        try:
            async with self.ctx.engine.begin() as connection:
                claimed = await claim_deliveries(connection, sorted(owners))
                unclaimed = {key[0] for key in owners if key not in claimed}
                gone = await missing_sources(connection, unclaimed) if unclaimed else set()
                for p in mine:
                    if p.keys[0][0] in gone:
                        outcomes[p] = NotFound(f"no {p.delivery.source.kind} webhook source {p.keys[0][0]}")
                fresh = [p for p in mine if all(key in claimed for key in p.keys)]
                duplicates = [p for p in mine if p not in outcomes and not all(key in claimed for key in p.keys)]
                released = [key for p in duplicates for key in p.keys if key in claimed]
                outcomes.update((p, "duplicate") for p in duplicates)
                results = await asyncio.gather(
                    *(publish(self.ctx.kafka, str(p.keys[0][0]).encode(), p.value, p.headers, self.timeout)
                      for p in fresh),
                    return_exceptions=True,
                )
                for pending, result in zip(fresh, results):
                    if isinstance(result, BaseException):
                        outcomes[pending] = result
                        released.extend(pending.keys)
                    else:
                        outcomes[pending] = "accepted"
                if released:
                    await release_deliveries(connection, released)
        except BaseException as exc:
            # Nothing of this batch committed (a publish that went through is published again
            # on the partner's retry, with the same event id, which consumers deduplicate).
            for pending in mine:
                outcomes[pending] = exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for pending, outcome in outcomes.items():
                if pending.outcome.done():
                    continue
                if isinstance(outcome, asyncio.CancelledError):
                    pending.outcome.cancel()
                elif isinstance(outcome, BaseException):
                    pending.outcome.set_exception(outcome)
                else:
                    pending.outcome.set_result(outcome)
            self._queue[:0] = later


def app_acceptor(request: Request) -> Acceptor:
    """The app's acceptor, made on first use (GATEWAY_WEBHOOK_PUBLISH_TIMEOUT_SECONDS)."""
    acceptor = getattr(request.app.state, "webhook_acceptor", None)
    if acceptor is None:
        ctx = request.app.state.ctx
        acceptor = Acceptor(ctx, ctx.settings.gateway_webhook_publish_timeout_seconds)
        request.app.state.webhook_acceptor = acceptor
    return acceptor
