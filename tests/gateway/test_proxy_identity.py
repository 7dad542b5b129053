"""The proxy's fast path still authenticates, checks the scope and vouches for every request."""

import httpx
import pytest

from services.gateway.identity.service import create_key
from services.gateway.main import create_app
from shared.db import make_engine, make_sessionmaker
from shared.identity import IdentityVerifier
from tests.conftest import bearer
from tests.gateway.fakes import FakeUpstream, gateway_settings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def _key_with(platform, tenant, scopes: list[str]) -> str:
    engine = make_engine(platform.service_env("gateway")["DATABASE_URL"], pool_size=1, application_name="test")
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            _, key = await create_key(session, tenant.tenant_id, name="narrow", scopes=scopes)
            return key
    finally:
        await engine.dispose()


async def _through(platform, upstream: FakeUpstream, requests):
    app = create_app(gateway_settings(platform, discovery_url=upstream.url))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        return [await client.request(method, path, **kwargs) for method, path, kwargs in requests]


@pytest.mark.parametrize(
    ("scopes", "method", "needed"),
    [(["audits:read"], "GET", "discovery:read"), (["discovery:read"], "POST", "discovery:write")],
)
async def test_a_key_without_the_routes_scope_is_refused_before_the_upstream(platform, tenant, scopes, method, needed):
    key = await _key_with(platform, tenant, scopes)
    async with FakeUpstream() as upstream:
        [response] = await _through(platform, upstream, [(method, "/v1/discovery/creators", {"headers": bearer(key)})])
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden", "detail": f"this credential lacks the '{needed}' scope"}
    assert response.headers["x-correlation-id"]
    assert upstream.received == []


async def test_a_request_without_credentials_never_reaches_the_upstream(platform):
    async with FakeUpstream() as upstream:
        [response] = await _through(platform, upstream, [("GET", "/v1/discovery/creators", {})])
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert upstream.received == []


async def test_every_request_carries_a_fresh_token_naming_the_caller_and_its_request_id(platform, tenant):
    forged = {"X-Limelight-Identity": "forged", "X-Correlation-ID": "client-chosen-id"}
    async with FakeUpstream() as upstream:
        responses = await _through(
            platform, upstream,
            [("GET", "/v1/discovery/creators", {"headers": bearer(tenant.key) | forged}),
             ("GET", "/v1/discovery/creators", {"headers": bearer(tenant.key)})],
        )
    assert [r.status_code for r in responses] == [200, 200]
    verifier = IdentityVerifier(platform.service_env("gateway")["IDENTITY_PUBLIC_KEY"], audience="discovery")
    tokens = [r.headers["x-limelight-identity"] for r in upstream.received]
    assert tokens[0] != tokens[1] and "forged" not in tokens
    for received, response, token in zip(upstream.received, responses, tokens):
        identity = verifier.verify(token)
        assert identity.tenant_id == tenant.tenant_id
        assert identity.key_id == str(tenant.key_id)
        assert identity.request_id == response.headers["x-correlation-id"] == received.headers["x-correlation-id"]
        assert "authorization" not in received.headers
    assert responses[0].headers["x-correlation-id"] == "client-chosen-id"
