"""The click redirect: no credentials asked, none passed on, the shopper's address passed on."""

import httpx
import pytest

from services.gateway.main import create_app
from shared.identity import IDENTITY_HEADER
from tests.conftest import bearer
from tests.gateway.fakes import FakeUpstream, gateway_settings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _client(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


async def test_a_click_reaches_attribution_without_credentials_or_identity(platform, tenant):
    async with FakeUpstream(headers=[("Location", "https://shop.example/p/1?utm=x")]) as attribution:
        app = create_app(gateway_settings(platform, attribution_url=attribution.url))
        async with app.router.lifespan_context(app), _client(app) as client:
            response = await client.get(
                "/r/summer%20sale?src=ig",
                headers={**bearer(tenant.key), IDENTITY_HEADER: "forged", "X-Forwarded-For": "10.9.9.9"},
            )
    assert response.status_code == 200
    assert response.headers["location"] == "https://shop.example/p/1?utm=x"
    [seen] = attribution.received
    assert seen.path == "/r/summer%20sale?src=ig"
    assert IDENTITY_HEADER.lower() not in seen.headers
    assert "authorization" not in seen.headers
    assert seen.headers["x-forwarded-for"] == "198.51.100.7"


async def test_a_click_answers_503_when_attribution_is_unreachable(platform):
    async with FakeUpstream() as gone:
        url = gone.url
    app = create_app(gateway_settings(platform, attribution_url=url))
    async with app.router.lifespan_context(app), _client(app) as client:
        response = await client.get("/r/abc")
    assert response.status_code == 503
    assert response.json()["error"] == "upstream_unavailable"
    assert response.headers["Retry-After"] == "1"
    assert url not in response.text


async def test_a_slug_longer_than_any_link_is_refused_before_attribution(anonymous):
    response = await anonymous.get("/r/" + "a" * 201)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "path.slug"


@pytest.mark.parametrize("path", ["/r/a/b", "/r/a%2Fb", "/r/"])
async def test_what_is_no_slug_is_not_forwarded(platform, path):
    # The edge's fast path (public.ClickRedirect) takes only what the route would; the rest is
    # FastAPI's, which knows no such route.
    async with FakeUpstream() as attribution:
        app = create_app(gateway_settings(platform, attribution_url=attribution.url))
        async with app.router.lifespan_context(app), _client(app) as client:
            response = await client.get(path)
    assert response.status_code == 404, response.text
    assert attribution.received == []
