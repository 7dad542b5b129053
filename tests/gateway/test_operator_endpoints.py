"""Probes and metrics: public readiness covers the upstreams, metrics stay off the public door
for outside addresses, and the operator listener keeps the gateway's own (ADR 0006, 0017)."""

import httpx
import pytest

from services.gateway.main import create_app
from tests.gateway.fakes import FakeUpstream, gateway_settings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

UPSTREAMS = {"gateway", "discovery", "audit", "attribution"}


@pytest.fixture
def operator_url(platform) -> str:
    return f"http://127.0.0.1:{platform.s.operator_port}"


def _client(app, client_address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


async def test_liveness_stays_public_for_load_balancers(anonymous):
    response = await anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json()["service"] == "gateway"


async def test_public_readiness_needs_no_credentials_and_lists_each_upstream(anonymous):
    response = await anonymous.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {name: "up" for name in UPSTREAMS}}


async def test_public_readiness_is_503_naming_the_upstream_that_is_down(platform):
    # Nothing listens on the discovery URL of this gateway: a refused connection is "down".
    async with FakeUpstream() as dead:
        url = dead.url
    app = create_app(gateway_settings(platform, discovery_url=url))
    async with app.router.lifespan_context(app), _client(app, "203.0.113.9") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not_ready",
        "checks": {"gateway": "up", "discovery": "down", "audit": "up", "attribution": "up"},
    }
    assert url not in response.text


async def test_a_flood_of_readiness_probes_costs_one_upstream_check_per_second(platform):
    async with FakeUpstream() as upstream:
        app = create_app(gateway_settings(platform, audit_url=upstream.url))
        async with app.router.lifespan_context(app), _client(app) as client:
            before = sum(1 for r in upstream.received if r.path == "/readyz")
            for _ in range(50):
                await client.get("/readyz")
            probed = sum(1 for r in upstream.received if r.path == "/readyz") - before
    # 50 probes inside about one cache period (READINESS_CACHE_SECONDS): one check, or two if
    # the period expired while they ran.
    assert 1 <= probed <= 2, probed


async def test_metrics_on_the_public_port_answer_allowed_networks(gateway):
    await gateway.get("/healthz")
    # The suite's client connects from 127.0.0.1, inside the default allowed networks.
    response = await gateway.get("/metrics")
    assert response.status_code == 200
    assert 'http_requests_total{method="GET",route="/healthz",service="gateway"' in response.text


@pytest.mark.parametrize("address", ["203.0.113.9", "2001:db8::1", "8.8.8.8"])
async def test_metrics_are_not_found_for_any_other_address(platform, address):
    app = create_app(gateway_settings(platform))
    async with app.router.lifespan_context(app), _client(app, address) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "http_requests_total" not in response.text


async def test_the_metrics_networks_are_configurable(platform):
    app = create_app(gateway_settings(platform, gateway_metrics_allow=["203.0.113.0/24"]))
    async with app.router.lifespan_context(app):
        async with _client(app, "203.0.113.9") as client:
            assert (await client.get("/metrics")).status_code == 200
        async with _client(app, "127.0.0.1") as client:
            assert (await client.get("/metrics")).status_code == 404


async def test_a_malformed_metrics_network_is_refused_at_start_up(platform):
    with pytest.raises(ValueError):
        gateway_settings(platform, gateway_metrics_allow=["not-a-network"])


async def test_gateway_is_ready_on_the_operator_port_when_database_and_kafka_are(operator_url):
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{operator_url}/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "up", "kafka": "up"}


async def test_gateway_metrics_are_on_the_operator_port(gateway, operator_url):
    await gateway.get("/healthz")
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{operator_url}/metrics")
    assert response.status_code == 200
    assert 'http_requests_total{method="GET",route="/healthz",service="gateway"' in response.text
