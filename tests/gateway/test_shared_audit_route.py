"""The creators' shared audit view at the gateway (docs/decisions/0043): no credentials asked,
none passed on, the path forwarded as it is to audit, each request charged to the client
address like a click, and the routes listed in the reference where clients call them."""

import httpx
import pytest

from services.gateway.main import create_app
from services.gateway.traffic.limits import PlanLimit
from shared.identity import IDENTITY_HEADER
from tests.conftest import bearer
from tests.gateway.fakes import FakeUpstream, gateway_settings
from tests.gateway.traffic.helpers import fresh_address, replica, settings_for

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _client(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


async def test_a_shared_view_reaches_audit_as_it_is_without_credentials_or_identity(platform, tenant):
    async with FakeUpstream() as audit:
        app = create_app(gateway_settings(platform, audit_url=audit.url))
        async with app.router.lifespan_context(app), _client(app) as client:
            viewed = await client.get("/shared/audits/tok-en_1?x=1", headers={IDENTITY_HEADER: "forged"})
            filed = await client.post(
                "/shared/audits/tok-en_1/appeals", json={"flag": "growth"}, headers=bearer(tenant.key)
            )
            sneaky = await client.get("/shared/audits/%2e%2e/%2e%2e/v1/audit/pods")
    assert (viewed.status_code, filed.status_code) == (200, 200)
    first, second = audit.received
    assert (first.method, first.path) == ("GET", "/shared/audits/tok-en_1?x=1")
    assert (second.method, second.path) == ("POST", "/shared/audits/tok-en_1/appeals")
    assert second.body == b'{"flag":"growth"}'
    for seen in (first, second):
        assert IDENTITY_HEADER.lower() not in seen.headers and "authorization" not in seen.headers
        assert seen.headers["x-forwarded-for"] == "198.51.100.9"
    assert sneaky.status_code == 422 and len(audit.received) == 2  # dot segments never reach audit


async def test_the_shared_view_has_one_door_not_also_one_under_v1(platform, tenant):
    async with FakeUpstream() as audit:
        app = create_app(gateway_settings(platform, audit_url=audit.url))
        async with app.router.lifespan_context(app), _client(app) as client:
            proxied = await client.get("/v1/audit/shared/audits/tok-en_1", headers=bearer(tenant.key))
    assert proxied.status_code == 404 and "gateway's root" in proxied.json()["detail"]
    assert audit.received == []


async def test_the_shared_view_costs_the_client_address_a_token_like_a_click(platform):
    async with FakeUpstream() as audit:
        settings = settings_for(platform, audit.url, audit_url=audit.url,
                                gateway_address_rate_limit=PlanLimit(rate=0.2, burst=3))
        async with replica(settings, address=fresh_address()) as client:
            answers = [(await client.get("/shared/audits/some-token")).status_code for _ in range(3)]
            click = await client.get("/r/some-link")
            appeal = await client.post("/shared/audits/some-token/appeals", json={})
    assert answers == [200, 200, 200]
    assert click.status_code == 429 and appeal.status_code == 429  # one bucket for the address's public calls


async def test_the_reference_lists_the_shared_views_at_their_public_paths(anonymous):
    document = (await anonymous.get("/openapi.json")).json()
    view = document["paths"]["/shared/audits/{token}"]["get"]
    appeal = document["paths"]["/shared/audits/{token}/appeals"]["post"]
    assert view["security"] == [] and appeal["security"] == []
    assert "429" in view["responses"] and "404" in view["responses"]
    assert not any(path.startswith("/v1/audit/shared/") for path in document["paths"])
