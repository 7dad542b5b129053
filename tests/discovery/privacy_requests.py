"""Helpers of the data-subject request tests (discovery's and audit's): PrivacyRequested
envelopes as the gateway publishes them, and the receipts each service keeps of them."""

import uuid
from datetime import UTC, datetime

from shared.contracts.envelope import Envelope, new_envelope
from shared.contracts.privacy import PrivacyRequested, PrivacySubject
from tests.conftest import eventually, publish

PRIVACY_TOPIC = "gateway.privacy.v1"


def privacy_request(
    tenant_id: uuid.UUID, kind: str, *, creator_id: uuid.UUID | str | None = None, request_id: uuid.UUID | None = None
) -> Envelope:
    """A PrivacyRequested of `tenant_id`, about a creator (by id) or, without one, a shopper."""
    request_id = request_id or uuid.uuid4()
    if creator_id is not None:
        subject = PrivacySubject(type="creator", creator_id=creator_id)
    else:
        subject = PrivacySubject(type="customer", email="shopper@example.com", customer_id="cust-1", source="generic")
    return new_envelope(
        event_type="PrivacyRequested", producer="gateway", aggregate_id=str(request_id), tenant_id=tenant_id,
        payload=PrivacyRequested(request_id=request_id, kind=kind, subject=subject, requested_at=datetime.now(UTC)),
    )


async def request_privacy(producer, tenant_id: uuid.UUID, kind: str, **subject) -> Envelope:
    envelope = privacy_request(tenant_id, kind, **subject)
    await publish(producer, PRIVACY_TOPIC, envelope)
    return envelope


def receipt_url(service: str, request_id) -> str:
    return f"/v1/{service}/privacy/receipts/{request_id}"


async def receipt(client, service: str, request_id, timeout: float = 30) -> dict:
    """The service's receipt of the request, once it has one (read with `client`'s key)."""

    async def held():
        answer = await client.get(receipt_url(service, request_id))
        return answer.json() if answer.status_code == 200 else None

    return await eventually(held, timeout=timeout)


def counts(receipt_body: dict) -> dict[str, int]:
    """The receipt's counts by what they count."""
    return {action["what"]: action["count"] for action in receipt_body["actions"]}


async def processed(db, schema: str, group: str, event_ids) -> int:
    return await db.fetchval(
        f"select count(*) from {schema}.processed_events where consumer_group = $1 and event_id = any($2::uuid[])",
        group, list(event_ids),
    )
