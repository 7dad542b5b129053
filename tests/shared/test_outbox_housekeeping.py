"""Housekeeping deletes published rows past the retention in bounded batches, and only on the
replica holding the schema's housekeeping lock."""

from datetime import timedelta

import pytest
import pytest_asyncio

from services.discovery.db import OutboxMessage
from shared.db import make_engine, make_sessionmaker
from shared.messaging.kafka import KafkaProducerHandle
from shared.messaging.relay import OutboxRelay

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# Younger than the running relay's 7-day retention, older than this test relay's one day: only
# the relay under test deletes these rows.
AGE = "2 days"


@pytest_asyncio.fixture
async def relay(platform):
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"], application_name="test-housekeeping")
    yield OutboxRelay(
        service="discovery",
        sessionmaker=make_sessionmaker(engine),
        model=OutboxMessage,
        kafka=KafkaProducerHandle(platform.s.kafka_bootstrap, "test-housekeeping"),
        retention=timedelta(days=1),
        delete_batch=50,
    )
    await engine.dispose()


async def insert_published(discovery_db, count: int) -> None:
    await discovery_db.execute(
        "insert into discovery.outbox (event_id, topic, key, event_type, value, sent_at) "
        f"select gen_random_uuid(), 'test.housekeeping', 'k', 'TestEvent', '{{}}', now() - interval '{AGE}' "
        "from generate_series(1, $1)",
        count,
    )


async def expired(discovery_db) -> int:
    return await discovery_db.fetchval(
        "select count(*) from discovery.outbox where sent_at < now() - interval '1 day'"
    )


async def test_published_rows_are_deleted_in_bounded_batches(relay, discovery_db):
    await insert_published(discovery_db, 120)

    assert await relay.delete_published(max_batches=1) == 50
    assert await expired(discovery_db) == 70
    assert await relay.delete_published() == 70
    assert await expired(discovery_db) == 0


async def test_a_replica_without_the_housekeeping_lock_deletes_nothing(relay, discovery_db):
    await insert_published(discovery_db, 10)
    # One connection for the whole hold: a pooled connection drops its advisory locks on release.
    async with discovery_db.acquire() as other_replica:
        await other_replica.execute("select pg_advisory_lock($1)", relay._housekeeping_lock_key)
        try:
            assert await relay.delete_published() == 0
            assert await expired(discovery_db) == 10
        finally:
            await other_replica.execute("select pg_advisory_unlock($1)", relay._housekeeping_lock_key)
    assert await relay.delete_published() == 10
