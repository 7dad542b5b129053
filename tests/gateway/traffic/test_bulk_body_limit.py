"""The bulk ingest route takes a body far past the API limit; every other route keeps that limit."""

import pytest
import pytest_asyncio

from services.gateway.main import create_app
from tests.gateway.fakes import FakeUpstream, served
from tests.gateway.traffic.helpers import replica, settings_for, tenant_on_plan
from tests.gateway.traffic.test_body_limits import exchange

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

LIMIT = 10_000
BULK_LIMIT = 50_000


@pytest_asyncio.fixture
async def gateway_with_bulk_limit(platform):
    async with FakeUpstream() as upstream:
        settings = settings_for(platform, upstream.url, gateway_max_body_bytes=LIMIT, gateway_max_bulk_body_bytes=BULK_LIMIT)
        async with served(create_app(settings)):
            yield upstream


async def test_the_bulk_route_takes_a_body_past_the_api_limit_and_no_more(platform, gateway_with_bulk_limit):
    tenant = await tenant_on_plan(platform, "standard")
    head = (
        "POST {path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer " + tenant.key + "\r\n"
        "Content-Type: application/x-ndjson\r\nContent-Length: {length}\r\n"
    )
    within, _, _ = await exchange(head.format(path="/v1/discovery/creators/bulk", length=LIMIT * 3), [b"x" * LIMIT * 3])
    past, _, body = await exchange(head.format(path="/v1/discovery/creators/bulk", length=BULK_LIMIT + 1))
    elsewhere, _, _ = await exchange(head.format(path="/v1/discovery/creators", length=LIMIT * 3))
    assert within != 413
    assert past == 413 and str(BULK_LIMIT) in body.decode()
    assert elsewhere == 413


async def test_the_bulk_route_waits_longer_for_its_answer_than_the_service_route(platform):
    tenant = await tenant_on_plan(platform, "standard")
    async with FakeUpstream(delay=1.0) as upstream:
        settings = settings_for(platform, upstream.url, discovery_timeout_seconds=0.3, gateway_bulk_timeout_seconds=30)
        async with replica(settings, key=tenant.key) as client:
            bulk = await client.post(
                "/v1/discovery/creators/bulk", content=b"{}\n", headers={"Content-Type": "application/x-ndjson"}
            )
            other = await client.post("/v1/discovery/creators", json={})

    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["path"] == "/creators/bulk"
    assert other.status_code == 504
    assert other.json() == {"error": "upstream_timeout", "detail": "discovery did not answer within 0.3s"}
