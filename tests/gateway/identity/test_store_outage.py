"""A credential that cannot be checked because the gateway's database is down is a 503 the
client retries, not a 500 and not a 401 that would make it drop a good key."""

import httpx
import pytest

from services.gateway.main import create_app
from tests.gateway.fakes import gateway_settings
from tests.gateway.identity.helpers import probe

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# Nothing listens on port 1 of the loopback: every connection is refused at once.
UNREACHABLE = "postgresql+asyncpg://limelight_gateway:x@127.0.0.1:1/limelight"


async def test_an_uncached_key_while_the_database_is_down_is_503(platform, tenant):
    app = create_app(gateway_settings(platform, database_url=UNREACHABLE))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        response = await probe(client, tenant.key)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "unavailable" and "Retry-After" in response.headers
