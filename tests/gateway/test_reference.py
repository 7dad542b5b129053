"""The gateway's public reference documents: cached, complete, and silent about internals."""

import httpx
import pytest

from services.gateway.main import create_app
from tests.gateway.fakes import FakeUpstream, gateway_settings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _spec_fetches(upstream: FakeUpstream) -> int:
    return len(upstream.documents)


async def _client(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


async def test_the_merged_reference_is_reused_instead_of_calling_every_upstream_each_time(platform):
    async with FakeUpstream() as upstream:
        app = create_app(gateway_settings(platform, discovery_url=upstream.url))
        async with app.router.lifespan_context(app), await _client(app) as client:
            for _ in range(5):
                assert (await client.get("/openapi.json")).status_code == 200
    assert _spec_fetches(upstream) == 1


async def test_a_merged_reference_missing_an_upstream_is_rebuilt_on_the_next_request(platform):
    async with FakeUpstream(requests_per_connection=0) as upstream:
        app = create_app(gateway_settings(platform, discovery_url=upstream.url))
        async with app.router.lifespan_context(app), await _client(app) as client:
            first = (await client.get("/openapi.json")).json()
            upstream.requests_per_connection = None
            second = (await client.get("/openapi.json")).json()
    assert "discovery" in first["info"]["description"]
    assert "did not answer" not in second["info"]["description"]


async def test_the_asyncapi_document_does_not_show_the_broker_address(gateway, platform):
    response = await gateway.get("/asyncapi.json")
    assert response.status_code == 200
    assert "discovery.creator.v1" in response.json()["channels"]
    assert platform.s.kafka_bootstrap not in response.text
    assert str(platform.s.kafka_port) not in response.text
