"""Two gateway replicas on one database: a key both have cached is refused by the other within
5 s of being revoked (or rotated away, or its tenant disabled) through one of them, and an
expired key by both. This is the KeyStore's poll of `updated_at` at work, not a shared cache."""

import asyncio
import uuid
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.gateway.main import create_app
from tests.conftest import bearer
from tests.gateway.fakes import gateway_settings
from tests.gateway.identity.helpers import REFUSAL_DEADLINE, probe, seconds_until_refused

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@asynccontextmanager
async def replicas(platform, count: int = 2):
    """`count` in-process gateways on the suite's database, each with its own key cache."""
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(count):
            app = create_app(gateway_settings(platform))
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway", timeout=15)
                )
            )
        yield clients


async def cached_on_both(a: httpx.AsyncClient, b: httpx.AsyncClient, key: str) -> None:
    for replica in (a, b):
        assert (await probe(replica, key)).status_code == 200


async def new_key(client: httpx.AsyncClient, admin_key: str, **body) -> dict:
    response = await client.post(
        "/v1/keys", json={"name": "replicated", "scopes": ["discovery:read"]} | body, headers=bearer(admin_key)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_key_revoked_on_one_replica_is_refused_by_the_other_within_5_s(platform, tenant):
    async with replicas(platform) as (a, b):
        made = await new_key(a, tenant.key)
        await cached_on_both(a, b, made["key"])
        assert (await a.delete(f"/v1/keys/{made['id']}", headers=bearer(tenant.key))).status_code == 204
        assert await seconds_until_refused(b, made["key"]) < REFUSAL_DEADLINE
        assert "revoked" in (await probe(b, made["key"])).json()["detail"]
        assert (await probe(a, made["key"])).status_code == 401


async def test_a_key_rotated_away_on_one_replica_is_refused_by_the_other_within_5_s(platform, tenant):
    async with replicas(platform) as (a, b):
        made = await new_key(a, tenant.key)
        await cached_on_both(a, b, made["key"])
        response = await a.post(f"/v1/keys/{made['id']}/rotate", json={"grace_seconds": 0}, headers=bearer(tenant.key))
        assert response.status_code == 201
        assert await seconds_until_refused(b, made["key"]) < REFUSAL_DEADLINE
        assert (await probe(b, response.json()["key"])).status_code == 200


async def test_an_expired_key_is_refused_by_every_replica(platform, tenant):
    async with replicas(platform) as (a, b):
        expires = datetime.now(UTC) + timedelta(seconds=2)
        made = await new_key(a, tenant.key, expires_at=expires.isoformat())
        await cached_on_both(a, b, made["key"])
        await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()))
        for replica in (a, b):
            assert await seconds_until_refused(replica, made["key"]) < REFUSAL_DEADLINE


async def test_a_tenant_disabled_on_one_replica_is_refused_by_the_other_within_5_s(platform, operator_tenant):
    async with replicas(platform) as (a, b):
        response = await a.post(
            "/v1/tenants", json={"name": f"replicated {uuid.uuid4().hex[:6]}"}, headers=bearer(operator_tenant.key)
        )
        assert response.status_code == 201
        made = response.json()
        key = made["first_key"]["key"]
        await cached_on_both(a, b, key)
        disabled = await a.patch(
            f"/v1/tenants/{made['id']}", json={"disabled": True}, headers=bearer(operator_tenant.key)
        )
        assert disabled.status_code == 200
        assert await seconds_until_refused(b, key) < REFUSAL_DEADLINE
        assert "disabled" in (await probe(b, key)).json()["detail"]
