"""What a partner can count on: published before the 200, once per delivery id, 503 (nothing
kept) when the broker is away, 413 for oversized bodies, 404 for unknown sources."""

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest

from runtime.admin import new_tenant
from services.gateway.main import create_app
from services.gateway.webhooks.repository import prune_deliveries
from shared.db import make_engine, make_sessionmaker, utcnow
from tests.conftest import bearer
from tests.gateway.fakes import BASE, GATEWAY_UNDER_TEST_PORT, gateway_settings, served
from tests.gateway.webhooks.conftest import create_generic_source, create_shopify_source, generic_headers, published, shopify_headers

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

BODY = b'{"event":"order.paid","order_id":"B-12"}'
# Nothing listens here: inside this suite's port range, not the suite's Kafka.
CLOSED_KAFKA_PORT = BASE + 59


async def test_concurrent_identical_deliveries_are_published_once(platform, gateway, anonymous):
    source = await create_generic_source(gateway)
    headers = generic_headers(source.secret, BODY, delivery_id=f"dup-{uuid.uuid4()}")

    answers = await asyncio.gather(*(anonymous.post(source.url, content=BODY, headers=headers) for _ in range(12)))

    assert {a.status_code for a in answers} == {200}
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["accepted"] + ["duplicate"] * 11
    assert len(await published(platform, source.id)) == 1


async def test_same_delivery_id_on_two_sources_is_two_deliveries(platform, gateway, anonymous):
    first, second = await create_generic_source(gateway), await create_generic_source(gateway)
    for source in (first, second):
        response = await anonymous.post(source.url, content=BODY, headers=generic_headers(source.secret, BODY, delivery_id="same"))
        assert response.json()["status"] == "accepted"
    assert len(await published(platform, first.id)) == len(await published(platform, second.id)) == 1


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_oversized_body_is_413_and_nothing_published(platform, gateway, anonymous, declared):
    source = await create_generic_source(gateway)
    body = b"x" * (1024 * 1024 + 1)
    headers = generic_headers(source.secret, body)

    async def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await anonymous.post(source.url, content=body if declared else chunks(), headers=headers)

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert await published(platform, source.id) == []


async def test_large_body_under_the_limit_is_published_byte_for_byte(platform, gateway, anonymous):
    source = await create_generic_source(gateway)
    body = b'{"blob":"' + b"y" * 900_000 + b'"}'

    response = await anonymous.post(source.url, content=body, headers=generic_headers(source.secret, body))

    assert response.status_code == 200, response.text
    [event] = await published(platform, source.id)
    assert event["payload"]["body"].encode() == body


async def test_body_under_the_limit_whose_event_the_broker_refuses_is_413_and_not_claimed(platform, gateway, anonymous, gateway_db):
    """The envelope around a body close to 1 MiB is over Kafka's default 1 MiB message size: a
    clear 413 (a retry cannot succeed), nothing published, no claim left behind."""
    source = await create_generic_source(gateway)
    body = b'{"note": "' + b"y" * (1024 * 1024 - 13) + b'"}'  # a JSON object of just under 1 MiB

    response = await anonymous.post(source.url, content=body, headers=generic_headers(source.secret, body))

    assert response.status_code == 413, response.text
    assert "event broker" in response.json()["detail"]
    assert await published(platform, source.id) == []
    claims = await gateway_db.fetchval("select count(*) from gateway.webhook_deliveries where source_id = $1", uuid.UUID(source.id))
    assert claims == 0


@pytest.mark.parametrize("kind", ["shopify", "generic"])
@pytest.mark.parametrize("source_id", [str(uuid.uuid4()), "not-a-uuid"], ids=["unknown", "malformed"])
async def test_unknown_source_is_404(anonymous, kind, source_id):
    response = await anonymous.post(f"/webhooks/{kind}/{source_id}", content=BODY, headers=generic_headers("s", BODY))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_disabled_source_is_404_until_enabled_again(platform, gateway, anonymous):
    source = await create_generic_source(gateway)
    assert (await gateway.patch(f"/v1/webhook-sources/{source.id}", json={"disabled": True})).json()["disabled"] is True

    refused = await anonymous.post(source.url, content=BODY, headers=generic_headers(source.secret, BODY))
    await gateway.patch(f"/v1/webhook-sources/{source.id}", json={"disabled": False})
    accepted = await anonymous.post(source.url, content=BODY, headers=generic_headers(source.secret, BODY))

    assert refused.status_code == 404
    assert accepted.status_code == 200
    assert len(await published(platform, source.id)) == 1


async def test_deleted_source_is_404(gateway, anonymous):
    source = await create_generic_source(gateway)
    assert (await gateway.delete(f"/v1/webhook-sources/{source.id}")).status_code == 204

    response = await anonymous.post(source.url, content=BODY, headers=generic_headers(source.secret, BODY))

    assert response.status_code == 404


async def test_broker_unavailable_is_503_with_retry_after_and_the_retry_is_published(platform, gateway, anonymous, gateway_db):
    source = await create_shopify_source(gateway)
    order = b'{"id":12,"financial_status":"paid","line_items":[]}'
    headers = shopify_headers(source.secret, order, topic="orders/paid", shop=source.shop_domain)
    settings = gateway_settings(
        platform, kafka_bootstrap_servers=f"127.0.0.1:{CLOSED_KAFKA_PORT}", run_background_workers=False
    )

    async with served(create_app(settings), GATEWAY_UNDER_TEST_PORT) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        refused = await client.post(source.url, content=order, headers=headers)

    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "unavailable"
    assert int(refused.headers["Retry-After"]) > 0
    assert await published(platform, source.id) == []
    claims = await gateway_db.fetchval("select count(*) from gateway.webhook_deliveries where source_id = $1", uuid.UUID(source.id))
    assert claims == 0  # the claim went with the failed publish
    retried = await anonymous.post(source.url, content=order, headers=headers)
    assert retried.json()["status"] == "accepted"
    assert len(await published(platform, source.id)) == 1


async def test_delivery_ids_older_than_the_retention_are_pruned(platform, gateway, anonymous, gateway_db):
    source = await create_generic_source(gateway)
    old = b'{"order_id":"old"}'
    headers = generic_headers(source.secret, old, delivery_id="old")
    assert (await anonymous.post(source.url, content=old, headers=headers)).status_code == 200
    # Both of its claims: the delivery id and the fingerprint of what was signed.
    await gateway_db.execute(
        "update gateway.webhook_deliveries set received_at = now() - interval '8 days' where source_id = $1",
        uuid.UUID(source.id),
    )
    recent = b'{"order_id":"recent"}'
    headers = generic_headers(source.secret, recent, delivery_id="recent")
    assert (await anonymous.post(source.url, content=recent, headers=headers)).status_code == 200
    engine = make_engine(platform.service_env("gateway")["DATABASE_URL"])
    try:
        deleted = await prune_deliveries(make_sessionmaker(engine), utcnow() - timedelta(days=7))
    finally:
        await engine.dispose()

    assert deleted >= 1
    kept = await gateway_db.fetch("select delivery_id from gateway.webhook_deliveries where source_id = $1", uuid.UUID(source.id))
    kept_ids = sorted(r["delivery_id"] for r in kept)
    assert kept_ids[0] == "recent" and kept_ids[1].startswith("sha256:") and len(kept_ids) == 2


async def test_source_of_a_disabled_tenant_is_404(platform, anonymous, gateway_db):
    owner = await new_tenant(platform.service_env("gateway")["DATABASE_URL"], "soon disabled")
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), timeout=15, headers=bearer(owner.key)) as client:
        source = await create_generic_source(client)
    await gateway_db.execute("update gateway.tenants set disabled_at = now() where id = $1", owner.tenant_id)

    response = await anonymous.post(source.url, content=BODY, headers=generic_headers(source.secret, BODY))

    assert response.status_code == 404
    assert await published(platform, source.id) == []
