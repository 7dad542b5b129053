"""Idempotency-Key on POST /v1/discovery/creators, through the real gateway: a retried create
returns the first response and nothing happens twice."""

import asyncio
import uuid

import pytest

from services.discovery.db import idempotency
from shared.db import make_engine, make_sessionmaker
from shared.housekeeping import lock_key
from tests.conftest import unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CREATORS = "/v1/discovery/creators"
FIELD = "header.Idempotency-Key"


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def effects(discovery_db, handle: str) -> tuple[int, int]:
    creators = await discovery_db.fetchval("select count(*) from discovery.creators where handle = $1", handle)
    events = await discovery_db.fetchval(
        "select count(*) from discovery.outbox"
        " where event_type = 'CreatorCreated' and convert_from(value, 'UTF8')::jsonb->'payload'->>'handle' = $1",
        handle,
    )
    return creators, events


async def test_a_retried_create_returns_the_first_response(gateway, discovery_db):
    headers, body = key(), {"platform": "tiktok", "handle": unique_handle()}
    first = await gateway.post(CREATORS, json=body, headers=headers)
    retry = await gateway.post(CREATORS, json=body, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert await effects(discovery_db, body["handle"]) == (1, 1)


async def test_the_same_key_with_another_body_is_a_422_naming_the_header(gateway, discovery_db):
    headers = key()
    first = await gateway.post(CREATORS, json={"platform": "x", "handle": unique_handle()}, headers=headers)
    other = unique_handle()
    reuse = await gateway.post(CREATORS, json={"platform": "x", "handle": other}, headers=headers)
    assert first.status_code == 201
    assert reuse.status_code == 422
    assert reuse.json()["detail"] == [
        {"field": FIELD, "reason": "this key was already used with a different request; use a new key"}
    ]
    assert await effects(discovery_db, other) == (0, 0)


async def test_concurrent_identical_requests_have_one_effect(gateway, discovery_db):
    headers, body = key(), {"platform": "youtube", "handle": unique_handle()}
    responses = await asyncio.gather(*(gateway.post(CREATORS, json=body, headers=headers) for _ in range(6)))
    created = [r for r in responses if r.status_code == 201]
    in_flight = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_flight) == len(responses)
    assert len({r.json()["id"] for r in created}) == 1
    # A 409 here must be the key's, never the handle's: the key decides before the effect runs.
    assert all(r.json()["detail"][0]["field"] == FIELD for r in in_flight)
    assert await effects(discovery_db, body["handle"]) == (1, 1)


async def test_a_failed_request_leaves_no_key_behind(gateway):
    taken = unique_handle()
    assert (await gateway.post(CREATORS, json={"platform": "x", "handle": taken})).status_code == 201
    headers = key()
    failed = await gateway.post(CREATORS, json={"platform": "x", "handle": taken}, headers=headers)
    assert failed.status_code == 409
    fixed = await gateway.post(CREATORS, json={"platform": "x", "handle": unique_handle()}, headers=headers)
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed.headers


@pytest.mark.parametrize("value", ["k" * 256, "tab\tinside"])
async def test_a_malformed_key_is_a_422_naming_the_header(gateway, value):
    response = await gateway.post(
        CREATORS,
        json={"platform": "x", "handle": unique_handle()},
        headers=[("Idempotency-Key", value.encode())],
    )
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["detail"]] == [FIELD]


async def test_an_expired_key_no_longer_replays(gateway, discovery_db):
    headers = key()
    first = await gateway.post(CREATORS, json={"platform": "x", "handle": unique_handle()}, headers=headers)
    await discovery_db.execute(
        "update discovery.idempotency_keys set expires_at = now() - interval '1 second' where key = $1",
        headers["Idempotency-Key"],
    )
    again = await gateway.post(CREATORS, json={"platform": "x", "handle": unique_handle()}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] != first.json()["id"]


async def test_pruning_deletes_expired_keys_only(platform, gateway, discovery_db):
    expired, live = key(), key()
    for headers in (expired, live):
        await gateway.post(CREATORS, json={"platform": "x", "handle": unique_handle()}, headers=headers)
    await discovery_db.execute(
        "update discovery.idempotency_keys set expires_at = now() - interval '1 second' where key = $1",
        expired["Idempotency-Key"],
    )
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"])
    try:
        await idempotency.prune(make_sessionmaker(engine))
    finally:
        await engine.dispose()
    remaining = await discovery_db.fetch(
        "select key from discovery.idempotency_keys where key = any($1::text[])",
        [expired["Idempotency-Key"], live["Idempotency-Key"]],
    )
    assert [r["key"] for r in remaining] == [live["Idempotency-Key"]]


async def test_a_replica_pruning_keys_leaves_them_to_the_one_holding_the_lock(platform, gateway, discovery_db):
    expired = key()
    await gateway.post(CREATORS, json={"platform": "x", "handle": unique_handle()}, headers=expired)
    await discovery_db.execute(
        "update discovery.idempotency_keys set expires_at = now() - interval '1 second' where key = $1",
        expired["Idempotency-Key"],
    )

    async def still_there() -> bool:
        found = await discovery_db.fetchval(
            "select count(*) from discovery.idempotency_keys where key = $1", expired["Idempotency-Key"]
        )
        return found == 1

    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"])
    try:
        # One connection for the whole hold: a pooled connection drops its advisory locks on release.
        async with discovery_db.acquire() as other_replica:
            await other_replica.execute("select pg_advisory_lock($1)", lock_key(idempotency.prune_lock))
            try:
                assert await idempotency.prune(make_sessionmaker(engine)) == 0
                assert await still_there()
            finally:
                await other_replica.execute("select pg_advisory_unlock($1)", lock_key(idempotency.prune_lock))
        assert await idempotency.prune(make_sessionmaker(engine)) >= 1
        assert not await still_there()
    finally:
        await engine.dispose()
