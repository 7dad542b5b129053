"""Deliveries are claimed and published in batches (services/gateway/webhooks/delivery.py,
ADR 0038): whatever arrives together, each delivery is published once, a duplicate leaves
nothing claimed, and a 200 still means the delivery is on Kafka."""

import asyncio
import uuid

import pytest

from tests.gateway.webhooks.conftest import create_generic_source, generic_headers, published

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_burst_of_deliveries_and_their_retries_is_published_once_each(platform, gateway, anonymous):
    source = await create_generic_source(gateway)
    deliveries = []
    for n in range(40):
        body = b'{"event":"order.created","order_id":"burst-%d"}' % n
        deliveries.append((body, generic_headers(source.secret, body, delivery_id=f"burst-{n}")))

    # Every delivery twice, all at once: first attempts and retries land in the same batches.
    answers = await asyncio.gather(
        *(anonymous.post(source.url, content=body, headers=headers) for body, headers in deliveries * 2)
    )

    assert {a.status_code for a in answers} == {200}
    statuses = [a.json()["status"] for a in answers]
    assert statuses.count("accepted") == statuses.count("duplicate") == 40
    on_kafka = [envelope["payload"]["delivery_id"] for envelope in await published(platform, source.id)]
    assert sorted(on_kafka) == sorted(f"burst-{n}" for n in range(40))


async def test_a_duplicate_under_a_new_id_leaves_that_id_unclaimed(platform, gateway, anonymous, gateway_db):
    source = await create_generic_source(gateway)
    body = b'{"event":"order.created","order_id":"X-1"}'
    headers = generic_headers(source.secret, body, delivery_id="first-id")
    first = await anonymous.post(source.url, content=body, headers=headers)
    # The same signed delivery under another id: a duplicate, and "second-id" is not kept.
    replay = await anonymous.post(source.url, content=body, headers=headers | {"Limelight-Delivery-Id": "second-id"})
    claimed = await gateway_db.fetch(
        "select delivery_id from gateway.webhook_deliveries where source_id = $1", uuid.UUID(source.id)
    )
    other = b'{"event":"order.created","order_id":"X-2"}'
    later = await anonymous.post(source.url, content=other, headers=generic_headers(source.secret, other, delivery_id="second-id"))

    assert (first.json()["status"], replay.json()["status"], later.json()["status"]) == ("accepted", "duplicate", "accepted")
    assert "second-id" not in {row["delivery_id"] for row in claimed}
    assert [e["payload"]["delivery_id"] for e in await published(platform, source.id)] == ["first-id", "second-id"]


async def test_a_claim_for_a_source_deleted_meanwhile_claims_nothing_and_fails_nothing(platform, gateway):
    """Another replica's cache may still hold a source deleted a moment ago: its delivery's keys
    are not claimed (no foreign-key failure taking the whole batch down), the rest of the batch
    is, and the deleted source is named so its delivery can be answered 404."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from services.gateway.webhooks.repository import claim_deliveries, missing_sources

    live = await create_generic_source(gateway)
    deleted = uuid.uuid4()
    keys = sorted([(uuid.UUID(live.id), f"claim-{uuid.uuid4().hex}"), (deleted, "claim-gone")])
    engine = create_async_engine(platform.service_env("gateway")["DATABASE_URL"])
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            claimed = await claim_deliveries(connection, keys)
            gone = await missing_sources(connection, {deleted, uuid.UUID(live.id)})
            await transaction.rollback()
    finally:
        await engine.dispose()
    assert claimed == {key for key in keys if key[0] != deleted}
    assert gone == {deleted}


async def test_claims_of_one_source_in_open_transactions_do_not_wait_on_each_other(platform, gateway):
    """A claim only key-share locks its source's row (so the source cannot be deleted under it):
    two replicas' transactions, each still publishing its own deliveries of one busy source, never
    queue behind each other on that row, while a deletion of the source still waits for a claim —
    even one that inserted nothing (its key was claimed before), so only the lock holds the row."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import create_async_engine

    from services.gateway.webhooks.repository import claim_deliveries

    source = uuid.UUID((await create_generic_source(gateway)).id)
    engine = create_async_engine(platform.service_env("gateway")["DATABASE_URL"])
    try:
        async with engine.begin() as done:
            assert await claim_deliveries(done, [(source, "kept")]) == {(source, "kept")}
        async with engine.connect() as first, engine.connect() as second, engine.connect() as deleting:
            one, two = await first.begin(), await second.begin()
            assert await claim_deliveries(first, [(source, "kept")]) == set()  # a duplicate: nothing inserted
            await second.execute(text("SET LOCAL lock_timeout = '1s'"))
            assert await claim_deliveries(second, [(source, "open-2")]) == {(source, "open-2")}  # no wait
            await two.rollback()
            removal = await deleting.begin()
            await deleting.execute(text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(DBAPIError, match="lock timeout"):
                await deleting.execute(text("DELETE FROM gateway.webhook_sources WHERE id = :id"), {"id": source})
            await removal.rollback()
            await one.rollback()
    finally:
        await engine.dispose()


async def test_overlapping_claims_of_one_source_insert_in_key_order_and_never_deadlock(platform, gateway):
    """Claims of one source run side by side, so each must insert its keys in one order: a batch of
    many keys planned as a hash join (forced here) inserts them in key order all the same, and a
    small batch overlapping it, both waiting on a third claim, both finish when that one ends."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from services.gateway.webhooks.repository import claim_deliveries

    source = uuid.UUID((await create_generic_source(gateway)).id)
    keys = [(source, f"k{n:04d}") for n in range(64)]
    engine = create_async_engine(platform.service_env("gateway")["DATABASE_URL"])
    try:
        async with engine.connect() as holding, engine.connect() as large, engine.connect() as small:
            held = await holding.begin()
            await claim_deliveries(holding, [keys[3]])  # uncommitted: the others wait on k0003

            async def claim(connection, wanted, hashed: bool):
                async with connection.begin():
                    await connection.execute(text("SET LOCAL lock_timeout = '20s'"))
                    if hashed:
                        await connection.execute(text("SET LOCAL enable_nestloop = off"))
                        await connection.execute(text("SET LOCAL enable_mergejoin = off"))
                    return await claim_deliveries(connection, wanted)

            many = asyncio.create_task(claim(large, keys, hashed=True))
            await asyncio.sleep(0.5)  # the large batch is waiting on k0003, holding what it inserted before it
            few = asyncio.create_task(claim(small, [keys[1], keys[5]], hashed=False))
            await asyncio.sleep(0.5)
            await held.rollback()
            got_many, got_few = await asyncio.wait_for(asyncio.gather(many, few, return_exceptions=True), 30)
    finally:
        await engine.dispose()
    assert not isinstance(got_many, Exception), got_many
    assert not isinstance(got_few, Exception), got_few
    assert got_many | got_few == set(keys) and not got_many & got_few


async def test_a_claim_is_one_statement_text_whatever_the_batch_size(platform, gateway):
    """The claim's keys are bound as two arrays: a batch of one key and one of five run the same
    SQL, compiled once and prepared once per connection (it had been a VALUES list of the keys,
    compiled afresh for every batch)."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    from services.gateway.webhooks.repository import claim_deliveries

    source = uuid.UUID((await create_generic_source(gateway)).id)
    engine = create_async_engine(platform.service_env("gateway")["DATABASE_URL"])
    seen: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *_: seen.append(statement))
    try:
        for size in (1, 5):
            keys = sorted((source, f"size-{size}-{n}-{uuid.uuid4().hex}") for n in range(size))
            async with engine.begin() as connection:
                assert await claim_deliveries(connection, keys) == set(keys)
    finally:
        await engine.dispose()
    claims = [s for s in seen if s.startswith("INSERT INTO gateway.webhook_deliveries")]
    assert len(claims) == 2 and claims[0] == claims[1]
