"""The gateway's pooled upstream connections: never leaked, never a false 502 when reused."""

import asyncio

import httpx
import pytest

from services.gateway.main import create_app
from tests.conftest import bearer
from tests.gateway.fakes import GATEWAY_UNDER_TEST_PORT, FakeUpstream, gateway_settings, served

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def _received(upstream: FakeUpstream, count: int, timeout: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while len(upstream.received) < count:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def _send_then_hang_up(port: int, key: str) -> asyncio.StreamWriter:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /v1/discovery/slow HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer %s\r\n\r\n" % key.encode())
    await writer.drain()
    return writer


@pytest.mark.parametrize("padding", [0, 200_000], ids=["read-whole", "streamed"])
async def test_clients_hanging_up_before_the_body_do_not_exhaust_the_upstream_pool(platform, tenant, padding):
    pool, waves = 8, 25
    async with FakeUpstream(delay=0.1, padding=padding) as upstream:
        settings = gateway_settings(
            platform, discovery_url=upstream.url, upstream_max_connections=pool, discovery_timeout_seconds=2
        )
        async with served(create_app(settings)) as url:
            for wave in range(waves):
                writers = [await _send_then_hang_up(GATEWAY_UNDER_TEST_PORT, tenant.key) for _ in range(pool)]
                # Hang up once the gateway is waiting on the upstream, i.e. before the body starts.
                reached = await _received(upstream, (wave + 1) * pool, timeout=5)
                for writer in writers:
                    writer.close()
                if not reached:
                    break
            async with httpx.AsyncClient(timeout=10, headers=bearer(tenant.key)) as client:
                response = await client.get(f"{url}/v1/discovery/after-the-aborts")
    assert response.status_code == 200, response.text
    assert len(upstream.received) >= waves * pool


async def test_a_kept_alive_connection_the_upstream_closed_is_retried_not_a_502(platform, tenant):
    async with FakeUpstream(requests_per_connection=1) as upstream:
        app = create_app(gateway_settings(platform, discovery_url=upstream.url))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=bearer(tenant.key)
        ) as client:
            statuses = [(await client.get(f"/v1/discovery/item/{n}")).status_code for n in range(20)]
    assert statuses == [200] * 20


async def test_a_small_request_body_is_replayed_when_its_reused_connection_was_closed(platform, tenant):
    async with FakeUpstream(requests_per_connection=1) as upstream:
        app = create_app(gateway_settings(platform, discovery_url=upstream.url))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=bearer(tenant.key)
        ) as client:
            statuses = [(await client.post("/v1/discovery/items", json={"n": n})).status_code for n in range(6)]
    assert statuses == [200] * 6
    answered = [r.body for r in upstream.received]
    assert {b'{"n":%d}' % n for n in range(6)} <= set(answered)


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_new_connection_closed_without_an_answer_is_a_502_and_not_retried(platform, tenant, method):
    async with FakeUpstream(requests_per_connection=0) as upstream:
        app = create_app(gateway_settings(platform, discovery_url=upstream.url))
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=bearer(tenant.key)
        ) as client:
            response = await client.request(method, "/v1/discovery/orders", json={"n": 1} if method == "POST" else None)
    assert response.status_code == 502
    # The upstream may have acted on it: sending it again could, say, record an order twice. Not
    # even an idempotent method is sent again (the HTTP client would, on its own, once).
    assert len(upstream.received) == 1
