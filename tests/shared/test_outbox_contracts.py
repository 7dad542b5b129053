"""The outbox refuses, before commit, an event that its topic's contract does not allow."""

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.db import outbox
from shared.contracts.audit import AuditPayload
from shared.contracts.discovery import CreatorPayload
from shared.contracts.envelope import Envelope, new_envelope
from shared.messaging.outbox import OutboxError

def _session() -> AsyncSession:
    # A real session with no connection: the checks under test run before any database work.
    return AsyncSession()


def _creator_event(event_type="CreatorCreated", producer="discovery", payload=None):
    creator_id = uuid.uuid4()
    return new_envelope(
        event_type=event_type,
        producer=producer,
        aggregate_id=str(creator_id),
        payload=payload or CreatorPayload(creator_id=creator_id, platform="x", handle="h", audit_needed=True),
    )


@pytest.mark.asyncio
async def test_an_event_type_foreign_to_the_topic_is_refused():
    with pytest.raises(OutboxError, match="AuditCompleted is not an event of topic discovery.creator.v2"):
        await outbox.add(_session(), "discovery.creator.v2", _creator_event(event_type="AuditCompleted"))


@pytest.mark.asyncio
async def test_a_payload_of_the_wrong_model_is_refused():
    payload = AuditPayload(audit_id=uuid.uuid4(), creator_id=uuid.uuid4(), status="pending")
    with pytest.raises(OutboxError, match="payload must be CreatorPayload"):
        await outbox.add(_session(), "discovery.creator.v2", _creator_event(payload=payload))


@pytest.mark.asyncio
async def test_a_service_cannot_publish_to_another_services_topic():
    event = new_envelope(
        event_type="AuditScheduled",
        producer="discovery",
        aggregate_id="a",
        payload=AuditPayload(audit_id=uuid.uuid4(), creator_id=uuid.uuid4(), status="pending"),
    )
    with pytest.raises(OutboxError, match="discovery cannot publish to audit.audit.v1"):
        await outbox.add(_session(), "audit.audit.v1", event)


def test_an_event_written_before_sequences_existed_still_parses():
    event = _creator_event()
    old = event.model_dump(mode="json", exclude={"sequence"})
    assert "sequence" not in old
    assert Envelope[CreatorPayload].model_validate(old).sequence is None
