"""The outbox refuses, before commit, an event that its topic's contract does not allow."""

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.db import OutboxMessage, outbox
from shared.contracts.audit import AuditPayload
from shared.contracts.discovery import CreatorPayload
from shared.contracts.envelope import new_envelope
from shared.messaging.outbox import OutboxError


def _session() -> AsyncSession:
    # A real session with no connection: the checks under test run before any database work,
    # and `session.new` shows what the transaction would have written.
    return AsyncSession()


def _creator_event(event_type="CreatorCreated", producer="discovery", payload=None):
    creator_id = uuid.uuid4()
    return new_envelope(
        event_type=event_type,
        producer=producer,
        aggregate_id=str(creator_id),
        payload=payload or CreatorPayload(creator_id=creator_id, platform="x", handle="h", audit_needed=True),
    )


def test_a_valid_event_becomes_one_outbox_row_keyed_by_its_aggregate():
    session, event = _session(), _creator_event()
    outbox.add(session, "discovery.creator.v1", event)
    [row] = list(session.new)
    assert isinstance(row, OutboxMessage)
    assert (row.event_id, row.key, row.topic) == (event.event_id, event.aggregate_id, "discovery.creator.v1")
    assert row.envelope["payload"]["handle"] == "h"


def test_an_event_type_foreign_to_the_topic_is_refused():
    with pytest.raises(OutboxError, match="AuditCompleted is not an event of topic discovery.creator.v1"):
        outbox.add(_session(), "discovery.creator.v1", _creator_event(event_type="AuditCompleted"))


def test_a_payload_of_the_wrong_model_is_refused():
    payload = AuditPayload(audit_id=uuid.uuid4(), creator_id=uuid.uuid4(), status="pending")
    with pytest.raises(OutboxError, match="payload must be CreatorPayload"):
        outbox.add(_session(), "discovery.creator.v1", _creator_event(payload=payload))


def test_a_service_cannot_publish_to_another_services_topic():
    event = new_envelope(
        event_type="AuditScheduled",
        producer="discovery",
        aggregate_id="a",
        payload=AuditPayload(audit_id=uuid.uuid4(), creator_id=uuid.uuid4(), status="pending"),
    )
    with pytest.raises(OutboxError, match="discovery cannot publish to audit.audit.v1"):
        outbox.add(_session(), "audit.audit.v1", event)
