"""Which failures a consumer retries and which it dead-letters (ADR 0002, ADR 0005): database
errors by SQLSTATE class, provoked for real; anything else is permanent unless the handler says
`TransientError`."""

import uuid

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from shared.contracts.catalog import dlq_topic
from shared.db import make_engine
from shared.messaging.consumer import Subscription
from shared.messaging.failures import failure_kind
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


@pytest.mark.parametrize(
    ("sqlstate", "kind"),
    [
        ("25006", "unavailable"),  # read-only: a standby before promotion, or a failover in progress
        ("53100", "unavailable"),  # disk full
        ("53200", "unavailable"),  # out of memory
        ("53300", "unavailable"),  # too many connections
        ("57P01", "unavailable"),  # admin shutdown
        ("08006", "unavailable"),  # connection failure
        ("40001", "transient"),  # serialization failure
        ("40P01", "transient"),  # deadlock
        ("55P03", "transient"),  # lock not available
        ("57014", "transient"),  # statement timeout
        ("23505", "permanent"),  # unique violation: the handler or the data is wrong
        ("22P02", "permanent"),  # invalid text representation
        ("42703", "permanent"),  # undefined column: a bug
    ],
)
async def test_database_errors_are_classified_by_sqlstate(platform, sqlstate, kind):
    engine = make_engine(platform.service_env("audit")["DATABASE_URL"])
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as raised:
                await conn.execute(text(f"DO $$ BEGIN RAISE EXCEPTION 'provoked' USING ERRCODE = '{sqlstate}'; END $$"))
    finally:
        await engine.dispose()
    assert failure_kind(raised.value) == kind


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        # A handler using its session from two tasks at once: the driver refuses, the connection
        # is fine. Retried a bounded number of times, then dead-lettered; never held for good.
        (InterfaceError("select 1", None, Exception("another operation is in progress")), "transient"),
        (OperationalError("select 1", None, Exception("driver failure")), "transient"),
        (OperationalError("select 1", None, Exception("connection was closed"), connection_invalidated=True), "unavailable"),
        (PoolTimeoutError("QueuePool limit reached"), "unavailable"),
    ],
    ids=["interface-error", "operational-error", "connection-invalidated", "pool-exhausted"],
)
async def test_driver_errors_without_a_sqlstate_hold_the_partition_only_while_the_database_is_away(error, kind):
    assert failure_kind(error) == kind


async def _run_failing_then_healthy(platform, producer, audit_db, name, fail):
    """Publish one event whose handler runs `fail(session, call)` first; wait until it is applied,
    check nothing was dead-lettered, and return how many times the handler ran."""
    event = creator_created()
    calls = {"n": 0}

    async def handler(session, envelope):
        if envelope.event_id == event.event_id:
            calls["n"] += 1
            await fail(session, calls["n"])

    async with running_consumer(
        platform, name, [Subscription(TOPIC, "CreatorCreated", handler)], max_attempts=10, backoff_base=0.05
    ) as consumer:
        await publish(producer, TOPIC, event)
        await eventually(lambda: exactly(processed_count(audit_db, [event.event_id], consumer.group_id), 1), timeout=60)
    assert await records_on(platform, dlq_topic(TOPIC, name), event.aggregate_id.encode()) == []
    return calls["n"]


async def test_a_statement_timeout_is_retried_not_dead_lettered(platform, producer, audit_db):
    async def fail(session, call):
        if call <= 2:
            await session.execute(text("SET LOCAL statement_timeout = '20ms'"))
            await session.execute(text("SELECT pg_sleep(1)"))

    assert await _run_failing_then_healthy(platform, producer, audit_db, "statement-timeout-test", fail) == 3


async def test_a_read_only_transaction_is_retried_not_dead_lettered(platform, producer, audit_db):
    async def fail(session, call):
        if call <= 2:
            # What a writer sees while its primary is being demoted during a failover.
            await session.execute(text("SET TRANSACTION READ ONLY"))
            await session.execute(text("UPDATE audit.processed_events SET topic = topic WHERE false"))

    assert await _run_failing_then_healthy(platform, producer, audit_db, "read-only-test", fail) == 3


async def test_a_lock_not_available_is_retried_not_dead_lettered(platform, producer, audit_db, service_dsn):
    # A row the test keeps locked until the handler has tripped over it twice.
    row = uuid.uuid4()
    await insert_processed(audit_db, "test.lock-holder", row)
    holder = await asyncpg.connect(service_dsn("audit"))
    transaction = holder.transaction()
    await transaction.start()
    await holder.execute("select 1 from audit.processed_events where event_id = $1 for update", row)
    released = False

    async def fail(session, call):
        nonlocal released
        if call >= 3 and not released:
            released = True
            await transaction.rollback()
        await session.execute(
            text("SELECT 1 FROM audit.processed_events WHERE event_id = :row FOR UPDATE NOWAIT"), {"row": row}
        )

    try:
        assert await _run_failing_then_healthy(platform, producer, audit_db, "lock-nowait-test", fail) >= 3
    finally:
        if not released:
            await transaction.rollback()
        await holder.close()


@pytest.mark.parametrize("error", [FileNotFoundError, TimeoutError, ConnectionResetError])
async def test_a_handler_raising_an_os_or_timeout_error_is_dead_lettered(platform, producer, audit_db, error):
    name = f"{error.__name__.lower()}-test"
    event = creator_created()
    healthy = creator_created(event.payload.creator_id)  # same key: same partition, after it

    async def handler(session, envelope):
        if envelope.event_id == event.event_id:
            raise error("a bug in the handler, not a passing outage")

    async with running_consumer(platform, name, [Subscription(TOPIC, "CreatorCreated", handler)]) as consumer:
        await publish(producer, TOPIC, event)
        await publish(producer, TOPIC, healthy)
        await eventually(lambda: exactly(processed_count(audit_db, [healthy.event_id], consumer.group_id), 1), timeout=60)
    letters = await records_on(platform, dlq_topic(TOPIC, name), event.aggregate_id.encode())
    assert [dict(r.headers)["dlq.error_type"] for r in letters] == [error.__name__.encode()]
