"""In-process gateway replicas in front of a fake upstream, for the traffic-policy tests.

Each test makes its own tenant, so its bucket is its own: the suite's gateway and other tests
share the table but never a key."""

import asyncio
import itertools
import uuid
from contextlib import asynccontextmanager

import httpx

from runtime.admin import NewTenant, new_tenant
from services.gateway.main import create_app
from services.gateway.traffic.limits import PlanLimit
from tests.conftest import bearer
from tests.gateway.fakes import gateway_settings

# Roomy limits for whatever a test does not mean to trip.
ROOMY = PlanLimit(rate=10_000, burst=10_000)

_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address no other test used (TEST-NET-2, RFC 5737)."""
    return f"198.51.100.{next(_addresses)}"


async def closed_port() -> int:
    """A local port nothing listens on."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return port


async def tenant_on_plan(platform, plan: str) -> NewTenant:
    return await new_tenant(platform.service_env("gateway")["DATABASE_URL"], f"traffic {uuid.uuid4().hex[:8]}", plan=plan)


def settings_for(platform, upstream_url: str, **overrides):
    values = {
        "discovery_url": upstream_url,
        "gateway_rate_limits": {"standard": ROOMY},
        "gateway_address_rate_limit": ROOMY,
    }
    return gateway_settings(platform, **(values | overrides))


@asynccontextmanager
async def replica(settings, *, address: str | None = None, key: str | None = None):
    """A gateway app with its lifespan running, and an httpx client calling it in-process from
    `address` (the socket peer the gateway sees)."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=(address or fresh_address(), 40_000))
    headers = bearer(key) if key else {}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=transport, base_url="http://gateway", headers=headers, timeout=15
    ) as client:
        client.app = app
        yield client
