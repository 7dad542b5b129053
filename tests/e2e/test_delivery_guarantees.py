"""What the event backbone promises, proven against the real broker and database:
duplicates have one effect, poison goes to the dead-letter topic and the consumer goes on,
nothing written while Kafka is down is lost, and a consumer killed mid-stream loses nothing
and duplicates nothing."""

import asyncio
import json
import signal
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from runtime import procs
from shared.contracts.catalog import CATALOG
from tests.conftest import (
    at_least,
    creator_created,
    eventually,
    exactly,
    metric,
    processed_count,
    publish,
    unique_handle,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TOPIC = "discovery.creator.v2"
DLQ = "discovery.creator.v2.dlq.audit"


async def audits_for(audit_db, creator_id) -> int:
    return await audit_db.fetchval("select count(*) from audit.audits where creator_id = $1", creator_id)


async def test_same_event_delivered_twice_has_one_effect(platform, producer, audit_db):
    duplicates_before = await metric(platform, "audit", "consumer_events_total", outcome="duplicate", topic=TOPIC)
    dead_before = await metric(platform, "audit", "consumer_events_total", outcome="dead_lettered", topic=TOPIC)
    event = creator_created()
    await publish(producer, TOPIC, event)
    await publish(producer, TOPIC, event)
    # A third, distinct event on the same key (same partition) is consumed after both copies.
    marker = creator_created(event.payload.creator_id)
    await publish(producer, TOPIC, marker)

    await eventually(lambda: exactly(processed_count(audit_db, [marker.event_id]), 1))
    # One audit, scheduled by the first event: the replayed copy added nothing, and the distinct
    # second event found that audit pending (one active audit per creator, ADR 0029).
    assert await audits_for(audit_db, event.payload.creator_id) == 1
    triggers = await audit_db.fetch(
        "select trigger_event_id from audit.audits where creator_id = $1", event.payload.creator_id
    )
    assert [r["trigger_event_id"] for r in triggers] == [event.event_id]
    # The copy was recognised as a duplicate, not dead-lettered.
    assert await metric(platform, "audit", "consumer_events_total", outcome="duplicate", topic=TOPIC) == duplicates_before + 1
    assert await metric(platform, "audit", "consumer_events_total", outcome="dead_lettered", topic=TOPIC) == dead_before


async def _dead_letters_with_key(platform, key: bytes, expected: int, timeout: float = 30):
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.s.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(DLQ, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        found = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=500)
            found += [m for m in batch.get(tp, []) if m.key == key]
        return found
    finally:
        await consumer.stop()


async def test_poison_message_is_dead_lettered_and_the_consumer_moves_on(platform, producer, audit_db):
    key = uuid.uuid4()
    await producer.send_and_wait(TOPIC, b"{not json", key=str(key).encode())
    off_contract = creator_created(key)
    broken = json.loads(off_contract.model_dump_json())
    del broken["payload"]["handle"]
    await producer.send_and_wait(TOPIC, json.dumps(broken).encode(), key=str(key).encode())
    healthy = creator_created(key)
    await publish(producer, TOPIC, healthy)

    async def healthy_processed():
        return await audits_for(audit_db, key)

    assert await eventually(healthy_processed) == 1

    letters = await _dead_letters_with_key(platform, str(key).encode(), expected=2)
    assert [m.value for m in letters] == [b"{not json", json.dumps(broken).encode()]
    headers = [dict(m.headers) for m in letters]
    assert headers[0]["dlq.error_type"] == b"PoisonMessage"
    assert b"not a valid envelope" in headers[0]["dlq.error"]
    assert b"payload.handle" in headers[1]["dlq.error"]
    assert headers[1]["dlq.original_topic"] == TOPIC.encode()
    assert headers[1]["dlq.consumer"] == b"audit"
    # Two groups of one service share the dead-letter topic; this header tells them apart.
    assert headers[1]["dlq.consumer_group"] == b"audit.creator-audits"


async def test_events_committed_while_kafka_is_down_arrive_after_it_returns(platform, gateway, discovery_db):
    await asyncio.to_thread(platform.kafka.stop)
    try:
        handles = [unique_handle("offline") for _ in range(5)]
        ids = []
        for handle in handles:
            response = await gateway.post("/v1/discovery/creators", json={"platform": "twitch", "handle": handle})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        unsent = await discovery_db.fetchval(
            "select count(*) from discovery.outbox where sent_at is null and key = any($1::text[])", ids
        )
        assert unsent == len(ids)
    finally:
        await asyncio.to_thread(platform.kafka.start)

    # The broker kept its data across the restart: every catalog topic is still there.
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.s.kafka_bootstrap)
    await admin.start()
    try:
        assert {t.name for t in CATALOG} <= set(await admin.list_topics())
    finally:
        await admin.close()

    async def all_projected():
        bodies = [(await gateway.get(f"/v1/discovery/creators/{i}")).json() for i in ids]
        return all(b["audit"]["status"] == "pending" for b in bodies)

    await eventually(all_projected, timeout=90, interval=0.5)
    assert await discovery_db.fetchval(
        "select count(*) from discovery.outbox where sent_at is null and key = any($1::text[])", ids
    ) == 0


async def test_consumer_killed_mid_stream_loses_and_duplicates_nothing(platform, producer, audit_db, restart_service):
    total = 4000
    events = [creator_created() for _ in range(total)]
    event_ids = [e.event_id for e in events]
    for event in events:
        await producer.send(TOPIC, event.model_dump_json().encode(), key=event.aggregate_id.encode())
    await producer.flush()

    await eventually(lambda: at_least(processed_count(audit_db, event_ids), 100), interval=0.02)
    audit = procs.running("audit", platform.s.run_dir)
    audit.send_signal(signal.SIGKILL)
    await asyncio.to_thread(audit.wait, 10)
    at_kill = await processed_count(audit_db, event_ids)
    assert at_kill < total, "the consumer finished before it could be killed; raise `total`"

    await asyncio.to_thread(restart_service, "audit")

    await eventually(lambda: exactly(processed_count(audit_db, event_ids), total), timeout=120, interval=0.5)
    per_creator = await audit_db.fetch(
        "select trigger_event_id, count(*) as n from audit.audits where trigger_event_id = any($1::uuid[]) "
        "group by trigger_event_id",
        event_ids,
    )
    assert len(per_creator) == total
    assert {r["n"] for r in per_creator} == {1}
    announced = await audit_db.fetchval(
        "select count(*) from audit.outbox o join audit.audits a on a.creator_id::text = o.key "
        "where a.trigger_event_id = any($1::uuid[])",
        event_ids,
    )
    assert announced == total

