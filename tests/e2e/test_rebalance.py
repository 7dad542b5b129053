"""A second member joins the audit consumer group mid-stream and later leaves: every event is
applied exactly once and the group's committed offsets reach the end of every partition."""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.audit.audit.handlers import creator_consumer
from services.audit.config import AuditSettings
from shared.app import ServiceContext
from shared.db import make_engine, make_sessionmaker
from shared.messaging.kafka import KafkaProducerHandle
from tests.conftest import AUDIT_GROUP, at_least, creator_created, eventually, exactly, processed_count

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TOPIC = "discovery.creator.v2"


async def _lagging_partitions(platform) -> list:
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.s.kafka_bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=platform.s.kafka_bootstrap)
    await admin.start()
    await reader.start()
    try:
        committed = await admin.list_consumer_group_offsets(AUDIT_GROUP)
        partitions = [TopicPartition(TOPIC, p) for p in reader.partitions_for_topic(TOPIC) or []]
        ends = await reader.end_offsets(partitions)
        return [tp for tp in partitions if (committed[tp].offset if tp in committed else 0) < ends[tp]]
    finally:
        await reader.stop()
        await admin.close()


async def test_a_member_joining_and_leaving_mid_stream_loses_and_duplicates_nothing(platform, producer, audit_db):
    settings = AuditSettings(
        database_url=platform.service_env("audit")["DATABASE_URL"], kafka_bootstrap_servers=platform.s.kafka_bootstrap
    )
    engine = make_engine(settings.database_url)
    kafka = KafkaProducerHandle(settings.kafka_bootstrap_servers, client_id="audit-second-member")
    second = creator_consumer(ServiceContext("audit", settings, engine, make_sessionmaker(engine), kafka))
    stop = asyncio.Event()

    events = [creator_created() for _ in range(3000)]
    event_ids = [e.event_id for e in events]
    for event in events:
        await producer.send(TOPIC, event.model_dump_json().encode(), key=event.aggregate_id.encode())
    await producer.flush()

    await eventually(lambda: at_least(processed_count(audit_db, event_ids), 1), interval=0.02)
    member = asyncio.create_task(second.run(stop))  # joins: the group rebalances mid-stream
    assert await processed_count(audit_db, event_ids) < len(events), "stream finished before the join; send more"
    try:
        await eventually(lambda: exactly(processed_count(audit_db, event_ids), len(events)), timeout=120, interval=0.25)
    finally:
        stop.set()  # leaves: the group rebalances again
        await asyncio.wait_for(member, 30)
        await kafka.close()
        await engine.dispose()

    per_event = await audit_db.fetch(
        "select trigger_event_id, count(*) as n from audit.audits where trigger_event_id = any($1::uuid[]) "
        "group by trigger_event_id",
        event_ids,
    )
    assert len(per_event) == len(events)
    assert {r["n"] for r in per_event} == {1}

    # The remaining member keeps committing after both rebalances: the group catches up fully.
    tail = [creator_created() for _ in range(60)]
    for event in tail:
        await producer.send(TOPIC, event.model_dump_json().encode(), key=event.aggregate_id.encode())
    await producer.flush()
    await eventually(lambda: exactly(processed_count(audit_db, [e.event_id for e in tail]), len(tail)), timeout=60)
    await eventually(lambda: _none_lagging(platform), timeout=60, interval=0.5)


async def _none_lagging(platform):
    return not await _lagging_partitions(platform)
