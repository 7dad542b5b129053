"""The gateway's public reference documents: cached, complete, silent about internals, and the
source of the scope each proxied operation needs."""

import httpx
import pytest

from services.gateway.identity.service import create_key
from services.gateway.main import create_app
from shared.db import make_engine, make_sessionmaker
from tests.conftest import bearer, eventually
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
    assert "discovery.creator.v2" in response.json()["channels"]
    assert platform.s.kafka_bootstrap not in response.text
    assert str(platform.s.kafka_port) not in response.text


async def _key(platform, tenant, scopes: list[str]) -> str:
    engine = make_engine(platform.service_env("gateway")["DATABASE_URL"], pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            _, key = await create_key(session, tenant.tenant_id, name="reference test", scopes=scopes)
    finally:
        await engine.dispose()
    return key


async def test_the_gateway_checks_the_scope_the_service_document_declares(platform, tenant):
    # The service says reading /things needs `admin`, not the family's `discovery:read`; the
    # gateway reads that from the document in the background (nobody asks for /openapi.json).
    document = {"paths": {"/things": {"get": {"x-limelight-scope": "admin", "responses": {}}}}}
    reader = await _key(platform, tenant, ["discovery:read"])
    admin = await _key(platform, tenant, ["admin"])
    async with FakeUpstream(document=document) as upstream:
        app = create_app(gateway_settings(platform, discovery_url=upstream.url))
        async with app.router.lifespan_context(app), await _client(app) as client:
            await eventually(_known(app, "discovery"), timeout=10)
            refused = await client.get("/v1/discovery/things", headers=bearer(reader))
            allowed = await client.get("/v1/discovery/things", headers=bearer(admin))
            # A path the document does not list keeps the family rule.
            other = await client.get("/v1/discovery/other", headers=bearer(reader))
    assert refused.status_code == 403 and "'admin'" in refused.json()["detail"]
    assert allowed.status_code == 200
    assert other.status_code == 200
    assert [r.path for r in upstream.received] == ["/things", "/other"]


def _known(app, service: str):
    async def check() -> bool:
        return app.state.scopes.known(service)

    return check
