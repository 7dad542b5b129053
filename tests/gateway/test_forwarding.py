"""What crosses the gateway: the client's headers exactly, the gateway's own forwarding headers,
and redirects that never show an internal address."""

import asyncio
from contextlib import asynccontextmanager

import httpx
import pytest

from runtime import services
from services.gateway.main import create_app
from tests.conftest import bearer
from tests.gateway.fakes import GATEWAY_UNDER_TEST_PORT, OPERATOR_UNDER_TEST_PORT, FakeUpstream, gateway_settings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@asynccontextmanager
async def gateway_in_front_of(platform, tenant, upstream: FakeUpstream):
    app = create_app(gateway_settings(platform, discovery_url=upstream.url))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 40000)), base_url="http://gateway",
        headers=bearer(tenant.key),
    ) as client:
        yield client


async def test_an_upstream_slash_redirect_points_at_the_public_prefix(gateway, platform):
    response = await gateway.get("/v1/discovery/creators/", params={"limit": 10})
    assert response.status_code == 307
    assert response.headers["location"] == "/v1/discovery/creators?limit=10"


async def test_an_upstream_absolute_path_redirect_gets_the_public_prefix(platform, tenant):
    async with FakeUpstream(headers=[("Location", "/creators/42")]) as upstream:
        async with gateway_in_front_of(platform, tenant, upstream) as client:
            response = await client.get("/v1/discovery/anything")
    assert response.headers["location"] == "/v1/discovery/creators/42"


async def test_a_redirect_to_another_site_passes_unchanged(platform, tenant):
    async with FakeUpstream(headers=[("Location", "https://shop.example/p/1?utm_source=limelight")]) as upstream:
        async with gateway_in_front_of(platform, tenant, upstream) as client:
            response = await client.get("/v1/discovery/anything")
    assert response.headers["location"] == "https://shop.example/p/1?utm_source=limelight"


async def test_forged_forwarding_headers_are_replaced_by_the_client_address_the_gateway_saw(platform, tenant):
    forged = {
        "Forwarded": "for=6.6.6.6;proto=https",
        "X-Real-IP": "6.6.6.6",
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Prefix": "/admin",
    }
    async with FakeUpstream() as upstream:
        async with gateway_in_front_of(platform, tenant, upstream) as client:
            await client.get("/v1/discovery/anything", headers=forged)
    seen = upstream.received[0].headers
    assert seen["x-forwarded-for"] == "203.0.113.7"
    assert not {"forwarded", "x-real-ip", "x-forwarded-port", "x-forwarded-prefix"} & seen.keys()


async def test_the_upstream_gets_no_header_the_client_did_not_send(platform, tenant):
    async with FakeUpstream() as upstream:
        async with gateway_in_front_of(platform, tenant, upstream) as client:
            request = client.build_request("GET", "/v1/discovery/anything", headers={"X-Client": "1"})
            for name in ("accept", "accept-encoding", "user-agent", "connection"):
                del request.headers[name]
            await client.send(request)
    seen = upstream.received[0].headers
    assert not {"accept", "accept-encoding", "user-agent"} & seen.keys()
    assert seen["x-client"] == "1"
    # The caller's key stays at the door; the service gets the gateway's signed identity instead.
    assert "authorization" not in seen
    assert seen["x-limelight-identity"].count(".") == 2


async def test_a_utf8_header_value_reaches_the_upstream_byte_for_byte(platform, tenant):
    async with FakeUpstream() as upstream:
        async with gateway_in_front_of(platform, tenant, upstream) as client:
            response = await client.get("/v1/discovery/anything", headers={"X-Note": "café".encode()})
    assert response.status_code == 200
    # The fake upstream reads header bytes as latin-1: the UTF-8 bytes of "café", unchanged.
    assert upstream.received[0].headers["x-note"] == "café".encode().decode("latin-1")


async def test_a_proxy_in_the_environment_is_not_used_for_upstream_calls(platform, tenant, monkeypatch):
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    async with FakeUpstream() as upstream:
        async with gateway_in_front_of(platform, tenant, upstream) as client:
            response = await client.get("/v1/discovery/anything")
    assert response.status_code == 200


async def test_the_gateway_process_ignores_a_forwarded_for_its_client_sent(platform, tenant, tmp_path):
    """The gateway is started exactly as `limelight up` starts it: uvicorn trusts forwarding
    headers from 127.0.0.1 by default, which is where local clients connect from."""
    async with FakeUpstream() as upstream:
        settings = platform.s.model_copy(
            update={"state_dir": tmp_path, "gateway_port": GATEWAY_UNDER_TEST_PORT,
                    "gateway_operator_port": OPERATOR_UNDER_TEST_PORT}
        )
        env = {"DISCOVERY_URL": upstream.url, "GATEWAY_OPERATOR_PORT": str(OPERATOR_UNDER_TEST_PORT)}
        services.start(settings, "gateway", platform.service_env("gateway", env))
        try:
            await asyncio.to_thread(services.wait_healthy, settings, "gateway")
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(
                    f"{settings.url('gateway')}/v1/discovery/anything",
                    headers={"X-Forwarded-For": "6.6.6.6"} | bearer(tenant.key),
                )
        finally:
            await asyncio.to_thread(services.stop, settings, "gateway")
    assert response.status_code == 200
    assert response.json()["headers"]["x-forwarded-for"] == "127.0.0.1"


async def test_headers_the_gateway_writes_are_never_doubled_by_an_upstream(platform, tenant):
    own = [("X-Request-ID", "upstream"), ("RateLimit-Remaining", "999999"), ("X-Frame-Options", "ALLOWALL")]
    async with FakeUpstream(headers=own) as upstream:
        async with gateway_in_front_of(platform, tenant, upstream) as client:
            response = await client.get("/v1/discovery/anything")
    assert response.status_code == 200
    assert response.headers.get_list("x-frame-options") == ["DENY"]
    assert response.headers.get_list("x-request-id") == [response.headers["x-correlation-id"]]
    assert "999999" not in response.headers.get_list("ratelimit-remaining")
