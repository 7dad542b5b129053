"""What a consumer does with records that are not ordinary events, and what it refuses at
construction (ADR 0005)."""

import json
import uuid
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from shared.contracts.catalog import DAY_MS, dlq_topic, topic_by_name
from shared.messaging.consumer import Subscription
from shared.messaging.processed import DEDUPE_MARGIN, dedupe_retention
from tests.conftest import (
    creator_created,
    eventually,
    exactly,
    insert_processed,
    processed_count,
    publish,
    records_on,
    running_consumer,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TOPIC = "discovery.creator.v2"


async def _noop(session, envelope):
    return None


def _outcomes(name: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("consumer_events_total", {"consumer": name, "topic": TOPIC, "outcome": outcome}) or 0


async def test_a_subscription_to_a_topic_missing_from_the_catalog_fails_at_construction(platform):
    with pytest.raises(ValueError, match="discovery.creators.v1"):
        async with running_consumer(platform, "missing-topic-test", [Subscription("discovery.creators.v1", "CreatorCreated", _noop)]):
            pass


async def test_a_subscription_to_an_event_its_topic_does_not_declare_fails_at_construction(platform):
    with pytest.raises(ValueError, match="CreatorDeleted"):
        async with running_consumer(platform, "undeclared-event-test", [Subscription(TOPIC, "CreatorDeleted", _noop)]):
            pass


async def test_a_tombstone_is_counted_and_skipped_not_dead_lettered(platform, producer, audit_db):
    name = "tombstone-test"
    key = uuid.uuid4()
    healthy = creator_created(key)  # same key: same partition, after the tombstone
    async with running_consumer(platform, name, [Subscription(TOPIC, "CreatorCreated", _noop)]) as consumer:
        await producer.send_and_wait(TOPIC, None, key=str(key).encode())
        await publish(producer, TOPIC, healthy)
        await eventually(lambda: exactly(processed_count(audit_db, [healthy.event_id], consumer.group_id), 1), timeout=60)
    assert await records_on(platform, dlq_topic(TOPIC, name), str(key).encode()) == []
    assert _outcomes(name, "tombstone") >= 1


async def test_an_event_type_unknown_to_the_catalog_is_dead_lettered(platform, producer, audit_db):
    name = "misspelt-event-test"
    misspelt = json.loads(creator_created().model_dump_json())
    misspelt["event_type"] = "CreatorCreatd"
    key = misspelt["aggregate_id"].encode()
    healthy = creator_created(uuid.UUID(misspelt["aggregate_id"]))
    async with running_consumer(platform, name, [Subscription(TOPIC, "CreatorCreated", _noop)]) as consumer:
        await producer.send_and_wait(TOPIC, json.dumps(misspelt).encode(), key=key)
        await publish(producer, TOPIC, healthy)
        await eventually(lambda: exactly(processed_count(audit_db, [healthy.event_id], consumer.group_id), 1), timeout=60)
    letters = await records_on(platform, dlq_topic(TOPIC, name), key)
    assert len(letters) == 1
    assert b"CreatorCreatd" in dict(letters[0].headers)["dlq.error"]


async def test_a_declared_event_this_consumer_does_not_subscribe_to_is_skipped(platform, producer, audit_db):
    name = "unsubscribed-event-test"
    changed = creator_created().model_copy(update={"event_type": "CreatorChanged"})
    healthy = creator_created(changed.payload.creator_id)
    skipped_before = _outcomes(name, "ignored")
    async with running_consumer(platform, name, [Subscription(TOPIC, "CreatorCreated", _noop)]) as consumer:
        await publish(producer, TOPIC, changed)
        await publish(producer, TOPIC, healthy)
        await eventually(lambda: exactly(processed_count(audit_db, [healthy.event_id], consumer.group_id), 1), timeout=60)
        assert await processed_count(audit_db, [changed.event_id], consumer.group_id) == 0
    assert await records_on(platform, dlq_topic(TOPIC, name), changed.aggregate_id.encode()) == []
    assert _outcomes(name, "ignored") >= skipped_before + 1


async def test_dedupe_retention_follows_the_longest_subscribed_topic():
    retention = dedupe_retention(["discovery.creator.v2", "attribution.click.v1"])
    assert retention == timedelta(milliseconds=topic_by_name("attribution.click.v1").retention_ms) + DEDUPE_MARGIN
    assert retention > timedelta(milliseconds=30 * DAY_MS)


async def test_pruning_keeps_records_within_the_topic_retention_and_drops_older_ones(platform, audit_db):
    recent, old = uuid.uuid4(), uuid.uuid4()
    async with running_consumer(platform, "prune-test", [Subscription(TOPIC, "CreatorCreated", _noop)]) as consumer:
        # discovery.creator.v2 keeps 7 days: a record must outlive that, not 45 days.
        await insert_processed(audit_db, consumer.group_id, recent, age_days=7)
        await insert_processed(audit_db, consumer.group_id, old, age_days=20)
        await consumer.prune()
        assert await processed_count(audit_db, [recent], consumer.group_id) == 1
        assert await processed_count(audit_db, [old], consumer.group_id) == 0
