"""Data-subject requests: recorded, published on `gateway.privacy.v1` for discovery, audit and
attribution to act on, and read back with each service's receipt (docs/decisions/0054).

The request row and the publish share the request's transaction, as a webhook delivery does
(webhooks/delivery.py): the event is on Kafka (acks=all) before the row commits, and a publish
that fails is a 503 with nothing recorded. The row keeps a masked hint of the subject, never the
identifiers themselves; the event carries them for the services (the topic keeps them 1 day).
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
from aiokafka.errors import KafkaError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.db import SERVICE
from services.gateway.privacy.models import PrivacyRequest
from services.gateway.privacy.schemas import PrivacyRequestCreate, PrivacyRequestRead, ServiceReceipt
from shared.contracts.envelope import new_envelope
from shared.contracts.privacy import SCHEMA_VERSION, PrivacyRequested, PrivacySubject
from shared.db import utcnow
from shared.errors import Forbidden, Unavailable
from shared.identity import IDENTITY_HEADER, Identity
from shared.messaging.kafka import KafkaProducerHandle
from shared.pagination import PageParams, Sorts
from shared.privacy import ReceiptRead

log = logging.getLogger(__name__)

TOPIC = "gateway.privacy.v1"
SERVICES = ("discovery", "audit", "attribution")
PUBLISH_TIMEOUT = 10.0
RECEIPT_TIMEOUT = 5.0
SORTS = Sorts(PrivacyRequest.id, created_at=PrivacyRequest.created_at)
_resets: set[asyncio.Task] = set()


def hint(subject: PrivacySubject) -> str:
    """Enough to recognise a request by, not to find the person: a***@example.com, id …42."""
    if subject.type == "creator":
        return f"creator {subject.creator_id}"
    parts = []
    if subject.email:
        local, _, domain = subject.email.partition("@")
        parts.append(f"{local[:1]}***@{domain}")
    if subject.customer_id:
        parts.append(f"{subject.source or 'partner'} customer id …{subject.customer_id[-2:]}")
    if subject.order_ids:
        parts.append(f"{len(subject.order_ids)} order id{'s' if len(subject.order_ids) != 1 else ''}")
    return ", ".join(parts)[:200]


async def create(session: AsyncSession, kafka: KafkaProducerHandle, identity: Identity,
                 body: PrivacyRequestCreate) -> PrivacyRequest:
    if body.subject.type == "creator" and not identity.operator:
        raise Forbidden("a creator's data is the installation's: only an admin key of the operator workspace asks for it")
    subject = PrivacySubject(**body.subject.model_dump())
    row = PrivacyRequest(id=uuid.uuid4(), tenant_id=identity.tenant_id, kind=body.kind, subject_type=subject.type,
                         subject_hint=hint(subject), requested_by=identity.subject, created_at=utcnow())
    session.add(row)
    await session.flush()
    event = new_envelope(
        event_type="PrivacyRequested", producer=SERVICE, aggregate_id=str(row.id), tenant_id=identity.tenant_id,
        schema_version=SCHEMA_VERSION,
        payload=PrivacyRequested(request_id=row.id, kind=body.kind, subject=subject, requested_at=row.created_at))
    await _publish(kafka, str(row.id).encode(), event.model_dump_json().encode())
    return row


async def _publish(kafka: KafkaProducerHandle, key: bytes, value: bytes) -> None:
    producer = None
    try:
        async with asyncio.timeout(PUBLISH_TIMEOUT):
            producer = await kafka.get()
            await producer.send_and_wait(TOPIC, key=key, value=value, headers=[("event_type", b"PrivacyRequested")])
    except (KafkaError, TimeoutError, OSError) as exc:
        if producer is not None:  # reset beside the request: stopping a producer may wait on the broker
            task = asyncio.create_task(kafka.reset(producer))
            _resets.add(task)
            task.add_done_callback(_resets.discard)
        raise Unavailable("the event broker is unavailable; nothing was recorded, send the request again") from exc


async def page(session: AsyncSession, tenant_id: uuid.UUID, params: PageParams) -> list[PrivacyRequest]:
    query = SORTS.apply(select(PrivacyRequest).where(PrivacyRequest.tenant_id == tenant_id), params, "-created_at")
    return list((await session.execute(query)).scalars())


async def one(session: AsyncSession, tenant_id: uuid.UUID, request_id: uuid.UUID) -> PrivacyRequest | None:
    return (await session.execute(select(PrivacyRequest).where(
        PrivacyRequest.tenant_id == tenant_id, PrivacyRequest.id == request_id))).scalar_one_or_none()


async def with_receipts(row: PrivacyRequest, identity: Identity, state) -> PrivacyRequestRead:
    """The request and each service's receipt, asked of the services now (they own them)."""
    client: httpx.AsyncClient = state.own_http

    async def ask(service: str) -> ServiceReceipt:
        route = state.routes.get(service)
        if route is None:
            return ServiceReceipt(service=service, status="unavailable")
        token = state.signer.token(identity, audience=service)
        try:
            answer = await client.get(f"{route.upstream}/privacy/receipts/{row.id}", headers={IDENTITY_HEADER: token},
                                      timeout=RECEIPT_TIMEOUT)
        except httpx.HTTPError:
            return ServiceReceipt(service=service, status="unavailable")
        if answer.status_code == 404:
            return ServiceReceipt(service=service, status="pending")
        if answer.status_code != 200:
            log.warning("privacy receipt unreadable", extra={"upstream": service, "status": answer.status_code})
            return ServiceReceipt(service=service, status="unavailable")
        try:
            return ServiceReceipt(service=service, status="done", receipt=ReceiptRead.model_validate_json(answer.content))
        except ValueError:  # pydantic's ValidationError: a service answering another shape is not a 500 here
            log.warning("privacy receipt unreadable", extra={"upstream": service, "status": answer.status_code})
            return ServiceReceipt(service=service, status="unavailable")

    found = await asyncio.gather(*(ask(s) for s in SERVICES))
    read = PrivacyRequestRead.model_validate(row, from_attributes=True)
    read.services = list(found)
    read.status = "done" if all(r.status == "done" for r in found) else "in_progress"
    return read
