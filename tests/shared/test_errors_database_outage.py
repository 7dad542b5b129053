"""A database outage is the platform's fault, not the client's and not a bug: every endpoint
answers the project's 503 with Retry-After, logs one short line, and recovers by itself when
the server is back (a pooled connection the restart killed is never a 500)."""

import asyncio
import json
import uuid

import httpx
import pytest
import pytest_asyncio

from tests.conftest import ServiceIdentity, eventually, unique_handle
from tests.shared.database import restart_postgres

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def database_down(platform):
    await asyncio.to_thread(platform.postgres.stop)
    try:
        yield
    finally:
        await asyncio.to_thread(restart_postgres, platform)


@pytest_asyncio.fixture
async def discovery(platform):
    async with httpx.AsyncClient(base_url=platform.s.url("discovery"), timeout=30, auth=ServiceIdentity("discovery")) as client:
        yield client


def _log_records(platform, service: str) -> list[dict]:
    path = platform.s.logs_dir / f"{service}.log"
    records = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            records.append({"message": line})
    return records


async def _post_creator(client: httpx.AsyncClient, correlation_id: str) -> httpx.Response:
    return await client.post(
        "/creators",
        json={"platform": "twitch", "handle": unique_handle()},
        headers={"X-Correlation-ID": correlation_id},
    )


async def test_write_during_database_outage_answers_503_with_retry_after(database_down, discovery):
    response = await _post_creator(discovery, uuid.uuid4().hex)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "unavailable"
    assert "postgresql" not in response.text.lower()
    assert int(response.headers["Retry-After"]) > 0


async def test_database_outage_is_logged_once_without_a_traceback(database_down, platform, discovery):
    failing, marker = uuid.uuid4().hex, uuid.uuid4().hex
    before = len(_log_records(platform, "discovery"))
    await _post_creator(discovery, failing)
    # A second request on the same connection: once its line is written, anything the server
    # logs about the first one has been written too.
    await _post_creator(discovery, marker)

    async def marker_logged() -> bool:
        return any(r.get("correlation_id") == marker for r in _log_records(platform, "discovery"))

    await eventually(marker_logged)

    new = _log_records(platform, "discovery")[before:]
    # The access log (if switched on) records every request; it is not an error report.
    about_request = [r for r in new if r.get("correlation_id") == failing and r.get("logger") != "uvicorn.access"]
    assert len(about_request) == 1, about_request
    assert "exc_info" not in about_request[0]
    assert not [r for r in new if r.get("message", "").startswith("Exception in ASGI application")]


async def test_pooled_connections_killed_by_a_database_restart_are_never_a_500(platform, discovery):
    assert (await discovery.get("/creators", params={"limit": 1})).status_code == 200
    await asyncio.to_thread(platform.postgres.stop)
    await asyncio.to_thread(restart_postgres, platform)

    statuses = [(await discovery.get("/creators", params={"limit": 1})).status_code for _ in range(10)]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(503) <= 1, statuses
    assert statuses[-1] == 200, statuses


async def test_after_a_database_restart_the_first_writes_succeed(platform, gateway):
    """Pooled connections the restart closed are replaced at checkout (shared.db._drop_closed),
    not discovered by a failing write: the gateway's own tables and a service's both take the
    first write after PostgreSQL is back."""
    assert (await gateway.get("/v1/keys", params={"limit": 1})).status_code == 200
    assert (await gateway.post("/v1/discovery/creators", json={"platform": "tiktok", "handle": unique_handle()})).status_code == 201
    await asyncio.to_thread(platform.postgres.stop)
    await asyncio.to_thread(restart_postgres, platform)

    key = await gateway.post("/v1/keys", json={"name": "after restart", "scopes": ["discovery:read"]})
    creator = await gateway.post("/v1/discovery/creators", json={"platform": "tiktok", "handle": unique_handle()})
    assert (key.status_code, creator.status_code) == (201, 201), (key.text, creator.text)
