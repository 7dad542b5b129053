"""Small helpers of the credential tests: clients for a key, and waiting for a refusal."""

import asyncio
import time

import httpx

from tests.conftest import bearer

# A route every key with discovery:read may call, answered by the real discovery service.
PROBE = "/v1/discovery/creators"
# The promise: a revoked key is refused within 5 s on every replica.
REFUSAL_DEADLINE = 5.0


async def probe(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.get(PROBE, params={"limit": 1}, headers=bearer(key))


async def seconds_until_refused(client: httpx.AsyncClient, key: str, timeout: float = REFUSAL_DEADLINE + 5) -> float:
    """How long until `client` answers 401 to `key` (fails after `timeout`)."""
    start = time.monotonic()
    while True:
        response = await probe(client, key)
        if response.status_code == 401:
            assert "WWW-Authenticate" in response.headers
            assert response.json()["error"] == "unauthorized"
            return time.monotonic() - start
        assert response.status_code == 200, response.text
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{key[:16]}… still accepted after {timeout} s")
        await asyncio.sleep(0.1)
