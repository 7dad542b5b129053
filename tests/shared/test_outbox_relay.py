"""What discovery's running relay does with rows the broker takes, refuses for good or cannot
take right now; rows are written straight into its outbox, as a service (or an operator) would."""

import asyncio
import json
import uuid

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.discovery.db import outbox
from shared.contracts.catalog import topic_by_name
from shared.contracts.discovery import CreatorPayload
from shared.contracts.envelope import new_envelope
from shared.db import make_engine, make_sessionmaker
from tests.conftest import eventually, metric

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CREATOR_TOPIC = "discovery.creator.v2"
# Kafka's default producer batch is 16 KiB: rows this small share one batch per partition.
SMALL = 200


@pytest_asyncio.fixture
async def discovery_sessions(platform):
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"], application_name="test-outbox")
    yield make_sessionmaker(engine)
    await engine.dispose()


class Tail:
    """Reads, as the services' consumers do (read_committed), what a topic receives from now on."""

    def __init__(self, consumer: AIOKafkaConsumer):
        self.consumer = consumer
        self.records: list = []

    @classmethod
    async def start(cls, platform, topic: str, partitions: int = 1) -> "Tail":
        consumer = AIOKafkaConsumer(
            bootstrap_servers=platform.s.kafka_bootstrap,
            enable_auto_commit=False,
            isolation_level="read_committed",
            fetch_max_bytes=8 * 1024 * 1024,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await consumer.start()
        try:
            assigned = [TopicPartition(topic, p) for p in range(partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_end(*assigned)
            for tp in assigned:
                await consumer.position(tp)
        except BaseException:
            await consumer.stop()
            raise
        return cls(consumer)

    async def until(self, done, timeout: float = 60) -> list:
        """Poll until `done(records)` holds; returns every record read so far."""

        async def check():
            batch = await self.consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records += records
            return done(self.records)

        await eventually(check, timeout=timeout, interval=0)
        return self.records

    async def stop(self) -> None:
        await self.consumer.stop()


async def create_topic(platform, config: dict[str, str]) -> str:
    name = f"test.outbox-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.s.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs=config)])
    finally:
        await admin.close()
    return name


async def insert_rows(conn, topic: str, values: dict[str, bytes]) -> None:
    """One transaction, so the relay claims the rows in one batch, in this order."""
    async with conn.transaction():
        for key, value in values.items():
            await conn.execute(
                "insert into discovery.outbox (event_id, topic, key, event_type, value) "
                "values ($1, $2, $3, 'TestEvent', $4)",
                uuid.uuid4(), topic, key, value,
            )


def rows_of(values: dict[str, bytes]) -> dict[str, bytes]:
    return {key: json.dumps({"key": key, "pad": "x" * (len(v) - 30)}).encode() for key, v in values.items()}


async def test_a_large_non_ascii_event_is_delivered_as_the_exact_bytes_stored(platform, discovery_db, discovery_sessions):
    tail = await Tail.start(platform, CREATOR_TOPIC, topic_by_name(CREATOR_TOPIC).partitions)
    try:
        creator_id = uuid.uuid4()
        # 200,000 CJK characters: 600 kB as UTF-8, 1.2 MB as \u escapes, past the broker's 1 MiB.
        event = new_envelope(
            event_type="CreatorCreated",
            producer="discovery",
            aggregate_id=str(creator_id),
            payload=CreatorPayload(
                creator_id=creator_id, platform="x", handle="cjk", display_name="漢字" * 100_000, audit_needed=False
            ),
        )
        async with discovery_sessions() as session, session.begin():
            await outbox.add(session, CREATOR_TOPIC, event)
        stored = await discovery_db.fetchval("select value from discovery.outbox where event_id = $1", event.event_id)

        records = await tail.until(lambda rs: any(r.key == str(creator_id).encode() for r in rs))
        [record] = [r for r in records if r.key == str(creator_id).encode()]
        assert record.value == stored
        assert 600_000 < len(stored) < 700_000
    finally:
        await tail.stop()


@pytest.mark.parametrize(
    ("topic_config", "big"),
    [
        # Refused by the broker; it shares a producer batch with the small rows, so all of them
        # get the broker's error and the relay must find which one it is.
        ({"max.message.bytes": "4096"}, 6_000),
        # Refused by the producer before sending: over its 1 MiB request limit.
        ({}, 1_200_000),
    ],
    ids=["broker-refuses", "producer-refuses"],
)
async def test_a_row_the_broker_refuses_is_parked_and_the_rows_around_it_are_delivered_once(
    platform, discovery_db, topic_config, big
):
    topic = await create_topic(platform, topic_config)
    tail = await Tail.start(platform, topic)
    parked_before = await metric(
        platform, "discovery", "outbox_parked_total", topic=topic, reason="MessageSizeTooLargeError"
    )
    try:
        values = rows_of({"before-1": b"x" * SMALL, "before-2": b"x" * SMALL, "big": b"x" * big, "after": b"x" * SMALL})
        async with discovery_db.acquire() as conn:
            await insert_rows(conn, topic, values)

        records = await tail.until(lambda rs: any(r.key == b"after" for r in rs))
        await asyncio.sleep(1)  # room for a duplicate to show up behind it
        records = await tail.until(lambda rs: True)
        assert [r.key for r in records] == [b"before-1", b"before-2", b"after"]
        assert [r.value for r in records] == [values["before-1"], values["before-2"], values["after"]]

        rows = {
            r["key"]: r
            for r in await discovery_db.fetch(
                "select key, sent_at, parked_at, attempts, last_error from discovery.outbox where topic = $1", topic
            )
        }
        assert rows["big"]["parked_at"] is not None and rows["big"]["sent_at"] is None
        assert "MessageSizeTooLargeError" in rows["big"]["last_error"]
        for key in ("before-1", "before-2", "after"):
            assert rows[key]["sent_at"] is not None
            assert (rows[key]["attempts"], rows[key]["last_error"]) == (0, None)
        assert (
            await metric(platform, "discovery", "outbox_parked_total", topic=topic, reason="MessageSizeTooLargeError")
            == parked_before + 1
        )
        log = (platform.s.logs_dir / "discovery.log").read_text()
        assert any("row parked" in line and topic in line for line in log.splitlines())
    finally:
        await tail.stop()


async def test_a_failing_send_is_recorded_on_its_row_only(platform, discovery_db):
    topic = await create_topic(platform, {})
    tail = await Tail.start(platform, topic)
    try:
        # A topic that does not exist (and is not auto-created): the send fails until it does.
        missing = f"test.outbox-missing-{uuid.uuid4().hex[:8]}"
        async with discovery_db.acquire() as conn:
            await insert_rows(conn, topic, {"first": b"{}"})
            async with conn.transaction():
                await insert_rows(conn, missing, {"ghost": b"{}"})
                await insert_rows(conn, topic, {"second": b"{}"})

        async def ghost_failed():
            return await discovery_db.fetchrow(
                "select attempts, last_error from discovery.outbox where topic = $1 and attempts > 0", missing
            )

        ghost = await eventually(ghost_failed, timeout=60)
        assert ghost["last_error"]
        second = await discovery_db.fetchrow(
            "select sent_at, attempts, last_error from discovery.outbox where topic = $1 and key = 'second'", topic
        )
        assert (second["sent_at"], second["attempts"], second["last_error"]) == (None, 0, None)
    finally:
        # The relay would retry the ghost forever: an operator's fix is to remove it.
        await discovery_db.execute("delete from discovery.outbox where topic = $1", missing)
    try:
        records = await tail.until(lambda rs: [r.key for r in rs] == [b"first", b"second"])
        assert [r.key for r in records] == [b"first", b"second"]
    finally:
        await tail.stop()
