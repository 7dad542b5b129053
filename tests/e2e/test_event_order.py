"""Events of one aggregate carry their sequence number end to end, and a projection orders by
it, never by the producer's wall clock."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.contracts.audit import AuditPayload
from shared.contracts.catalog import topic_by_name
from shared.contracts.envelope import new_envelope
from tests.conftest import eventually, publish, unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

AUDIT_TOPIC = "audit.audit.v1"
CREATOR_TOPIC = "discovery.creator.v2"


def audit_event(event_type: str, creator_id: str, audit_id: uuid.UUID, *, sequence: int, occurred_at: datetime):
    status = {"AuditScheduled": "pending", "AuditCompleted": "completed"}[event_type]
    envelope = new_envelope(
        event_type=event_type,
        producer="audit",
        aggregate_id=creator_id,
        payload=AuditPayload(
            audit_id=audit_id, creator_id=creator_id, status=status, score=80.0 if status == "completed" else None
        ),
    )
    return envelope.model_copy(update={"sequence": sequence, "occurred_at": occurred_at})


async def projected(discovery_db, creator_id: str):
    return await discovery_db.fetchrow(
        "select audit_id, audit_status, audit_sequence from discovery.creators where id = $1::uuid", creator_id
    )


async def processed(discovery_db, event_id: uuid.UUID) -> bool:
    return await discovery_db.fetchval("select count(*) from discovery.processed_events where event_id = $1", event_id) == 1


async def test_the_audit_projection_keeps_the_highest_sequence_whatever_the_clocks_say(gateway, producer, discovery_db):
    creator = (await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": unique_handle()})).json()
    creator_id = creator["id"]
    first = await eventually(
        lambda: _when(projected(discovery_db, creator_id), lambda row: row["audit_status"] == "pending")
    )
    assert first["audit_sequence"] == 1  # the audit service's own AuditScheduled

    # A second audit of the creator: it completes (sequence 3) on a host whose clock is an hour
    # behind the one that scheduled it (sequence 2), and the completion is consumed first.
    second = uuid.uuid4()
    now = datetime.now(UTC)
    completed = audit_event("AuditCompleted", creator_id, second, sequence=3, occurred_at=now - timedelta(hours=1))
    scheduled = audit_event("AuditScheduled", creator_id, second, sequence=2, occurred_at=now)
    await publish(producer, AUDIT_TOPIC, completed)
    await publish(producer, AUDIT_TOPIC, scheduled)
    await eventually(lambda: processed(discovery_db, scheduled.event_id))

    row = await projected(discovery_db, creator_id)
    assert (row["audit_id"], row["audit_status"], row["audit_sequence"]) == (second, "completed", 3)


async def test_an_aggregates_events_reach_kafka_numbered_in_commit_order(platform, gateway):
    partitions = topic_by_name(CREATOR_TOPIC).partitions
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.s.kafka_bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        assigned = [TopicPartition(CREATOR_TOPIC, p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        for tp in assigned:
            await consumer.position(tp)

        creator = (await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": unique_handle()})).json()
        # Concurrent changes of one creator: each request is its own transaction.
        changes = await asyncio.gather(
            *(gateway.patch(f"/v1/discovery/creators/{creator['id']}", json={"follower_count": n}) for n in range(1, 21))
        )
        assert all(c.status_code == 200 for c in changes)

        key = creator["id"].encode()
        seen: list[dict] = []

        # Each follower-count change publishes CreatorChanged and FollowerCountsObserved (the
        # series point the audit service reads): 1 + 2 x 20 events, all under the creator's key.
        async def all_arrived():
            batch = await consumer.getmany(timeout_ms=200)
            seen.extend(json.loads(r.value) for records in batch.values() for r in records if r.key == key)
            return len(seen) >= 41

        await eventually(all_arrived, timeout=60, interval=0)
        assert [e["sequence"] for e in seen] == list(range(1, 42))
        kinds = [e["event_type"] for e in seen]
        assert kinds.count("CreatorChanged") == 20 and kinds.count("FollowerCountsObserved") == 20
        final = (await gateway.get(f"/v1/discovery/creators/{creator['id']}")).json()
        changes = [e for e in seen if e["event_type"] == "CreatorChanged"]
        assert changes[-1]["payload"]["follower_count"] == final["follower_count"]
    finally:
        await consumer.stop()


async def _when(value, predicate):
    row = await value
    return row if row is not None and predicate(row) else None
