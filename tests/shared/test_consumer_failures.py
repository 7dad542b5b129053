"""A handler failing inside a batch: the batch is rolled back and replayed record by record, the
failing event is dead-lettered, and its neighbours are applied exactly once."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from services.audit.db import ProcessedEvent
from shared.db import make_engine, make_sessionmaker
from shared.messaging.consumer import IdempotentConsumer, Subscription
from shared.messaging.kafka import KafkaProducerHandle
from tests.conftest import creator_created, eventually, exactly, processed_count, publish

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TOPIC = "discovery.creator.v2"
DLQ = "discovery.creator.v2.dlq.failing-handler-test"


async def _ensure_dlq(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(DLQ, 1, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()


async def _consume(platform, audit_db, group: str, subscription: Subscription, applied: list, **options) -> None:
    """Run a consumer of `subscription` until the `applied` events are processed, then stop it."""
    engine = make_engine(platform.service_env("audit")["DATABASE_URL"])
    dead_letters = KafkaProducerHandle(platform.s.kafka_bootstrap, "failing-handler-test")
    consumer = IdempotentConsumer(
        consumer="failing-handler-test",
        group_id=group,
        subscriptions=[subscription],
        sessionmaker=make_sessionmaker(engine),
        processed_model=ProcessedEvent,
        bootstrap_servers=platform.s.kafka_bootstrap,
        dead_letters=dead_letters,
        **options,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(lambda: exactly(processed_count(audit_db, [e.event_id for e in applied], group), len(applied)),
                         timeout=60)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await dead_letters.close()
        await engine.dispose()


async def _dead_lettered(bootstrap: str, creator_id: uuid.UUID) -> list:
    """The dead-letter records of this creator's events."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await reader.start()
    try:
        tp = TopicPartition(DLQ, 0)
        reader.assign([tp])
        await reader.seek_to_beginning(tp)
        records = (await reader.getmany(tp, timeout_ms=5000)).get(tp, [])
    finally:
        await reader.stop()
    return [r for r in records if r.key == str(creator_id).encode()]


async def test_a_failing_handler_dead_letters_only_its_event(platform, producer, audit_db):
    await _ensure_dlq(platform.s.kafka_bootstrap)
    creator_id = uuid.uuid4()  # one key: all three land on one partition, in order
    good_1, bad, good_2 = (creator_created(creator_id, handle=h) for h in ("fine_one", "boom", "fine_two"))
    group = f"test.failing-handler-{uuid.uuid4().hex[:8]}"

    async def handler(session, event):
        if event.payload.handle == "boom":
            raise ValueError("the handler cannot apply this event")

    for event in (good_1, bad, good_2):
        await publish(producer, TOPIC, event)
    await _consume(platform, audit_db, group, Subscription(TOPIC, "CreatorCreated", handler), [good_1, good_2])

    assert not await audit_db.fetchval(
        "select 1 from audit.processed_events where consumer_group = $1 and event_id = $2", group, bad.event_id
    )
    mine = await _dead_lettered(platform.s.kafka_bootstrap, creator_id)
    assert len(mine) == 1
    headers = dict(mine[0].headers)
    assert headers["dlq.error_type"] == b"ValueError"
    assert headers["dlq.error"] == b"the handler cannot apply this event"
    assert mine[0].value == bad.model_dump_json().encode()


async def test_a_failing_finish_rolls_its_batch_back_and_dead_letters_only_its_event(platform, producer, audit_db):
    """A subscription's `finish` writes what its handler deferred for the whole batch (ADR 0063): when
    it fails, the batch is rolled back and replayed record by record — each record prepared and
    finished alone — so only the event whose deferred write cannot be made is dead-lettered."""
    from shared.db import transaction_memo

    await _ensure_dlq(platform.s.kafka_bootstrap)
    creator_id = uuid.uuid4()
    good_1, bad, good_2 = (creator_created(creator_id, handle=h) for h in ("kept_one", "boom", "kept_two"))
    group = f"test.failing-finish-{uuid.uuid4().hex[:8]}"
    prepared: list[int] = []
    finished: list[int] = []

    async def prepare(session, events):
        prepared.append(len(events))
        transaction_memo(session, "test.batch")["handles"] = [e.payload.handle for e in events]

    async def handler(session, event):
        assert event.payload.handle in transaction_memo(session, "test.batch")["handles"]  # prepared first

    async def finish(session):
        handles = transaction_memo(session, "test.batch")["handles"]
        finished.append(len(handles))
        if "boom" in handles:
            raise ValueError("the deferred write cannot be made")

    for event in (good_1, bad, good_2):
        await publish(producer, TOPIC, event)
    await _consume(platform, audit_db, group, Subscription(TOPIC, "CreatorCreated", handler, prepare, finish),
                   [good_1, good_2], max_attempts=2, backoff_base=0.05)

    assert not await audit_db.fetchval(
        "select 1 from audit.processed_events where consumer_group = $1 and event_id = $2", group, bad.event_id)
    assert finished == prepared  # every prepared transaction finished (or failed finishing), once
    assert prepared.count(1) >= 3  # the good ones applied alone after the rollback, the bad one tried alone
    mine = await _dead_lettered(platform.s.kafka_bootstrap, creator_id)
    assert len(mine) == 1 and mine[0].value == bad.model_dump_json().encode()
    assert dict(mine[0].headers)["dlq.error"] == b"the deferred write cannot be made"


async def test_a_finish_without_a_prepare_is_refused():
    from shared.messaging.routing import Router

    async def nothing(*_):
        return None

    with pytest.raises(ValueError, match="a finish needs a prepare"):
        Router([Subscription(TOPIC, "CreatorCreated", nothing, None, nothing)])
