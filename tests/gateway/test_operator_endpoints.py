"""Readiness and metrics are for operators: on the operator listener, not the public door."""

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest.fixture
def operator_url(platform) -> str:
    return f"http://127.0.0.1:{platform.s.operator_port}"


@pytest.mark.parametrize("path", ["/readyz", "/metrics"])
async def test_operator_endpoints_are_not_served_on_the_public_port(gateway, path):
    response = await gateway.get(path)
    assert response.status_code == 404


async def test_liveness_stays_public_for_load_balancers(gateway):
    response = await gateway.get("/healthz")
    assert response.status_code == 200
    assert response.json()["service"] == "gateway"


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
