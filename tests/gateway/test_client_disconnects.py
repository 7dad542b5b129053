"""A client that goes away is the client's business: a clean abort, logged once, never a 500."""

import asyncio

import httpx
import pytest
from prometheus_client import REGISTRY

from services.gateway.main import create_app
from tests.conftest import bearer, eventually
from tests.gateway.fakes import GATEWAY_UNDER_TEST_PORT, FakeUpstream, gateway_settings, served

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

PROXY_ROUTE = "/v1/{upstream}/{path:path}"


def _count(status: str) -> float:
    labels = {"service": "gateway", "method": "POST", "route": PROXY_ROUTE, "status": status}
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0


@pytest.mark.parametrize("declared_length", [2_000_000, 20_000], ids=["streamed-body", "replayable-body"])
async def test_a_client_leaving_mid_upload_is_a_client_closed_abort_not_a_500(platform, tenant, capsys, declared_length):
    closed_before, errors_before = _count("499"), _count("500")
    async with FakeUpstream() as upstream:
        async with served(create_app(gateway_settings(platform, discovery_url=upstream.url))):
            _, writer = await asyncio.open_connection("127.0.0.1", GATEWAY_UNDER_TEST_PORT)
            writer.write(
                b"POST /v1/discovery/uploads HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/octet-stream\r\n"
                b"Authorization: Bearer %s\r\n" % tenant.key.encode() +
                b"Content-Length: %d\r\n\r\n" % declared_length + b"x" * 10_000
            )
            await writer.drain()
            await asyncio.sleep(0.2)
            writer.close()

            async def counted():
                return _count("499") > closed_before or _count("500") > errors_before

            await eventually(counted, timeout=10)
    assert (_count("499") - closed_before, _count("500") - errors_before) == (1, 0)
    logged = capsys.readouterr().out
    assert logged.count("client closed the request") == 1
    assert '"level": "ERROR"' not in logged


async def test_proxied_requests_are_not_logged_one_line_each_by_httpx(platform, tenant, capsys):
    async with FakeUpstream() as upstream:
        app = create_app(gateway_settings(platform, discovery_url=upstream.url))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=bearer(tenant.key)
        ) as client:
            assert (await client.get("/v1/discovery/anything")).status_code == 200
    assert '"logger": "httpx"' not in capsys.readouterr().out
