"""Body limits on the wire (a real uvicorn): a Content-Length past the limit is refused before a
byte of body is read, a chunked body as soon as it passes the limit."""

import asyncio
import json

import pytest
import pytest_asyncio

from services.gateway.main import create_app
from tests.gateway.fakes import GATEWAY_UNDER_TEST_PORT, FakeUpstream, served
from tests.gateway.traffic.helpers import settings_for, tenant_on_plan

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

LIMIT = 10_000
WEBHOOK_LIMIT = 20_000


async def exchange(head: str, body_chunks: list[bytes] = ()) -> tuple[int, dict[str, str], bytes]:
    """Send a raw request, read the answer: status, headers, body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", GATEWAY_UNDER_TEST_PORT)
    try:
        writer.write(head.encode() + b"\r\n")
        await writer.drain()
        for chunk in body_chunks:
            writer.write(chunk)
            try:
                await writer.drain()
            except ConnectionError:
                break
        status_line = await reader.readline()
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), headers, body
    finally:
        writer.close()


def chunked(data: bytes, size: int = 4096) -> list[bytes]:
    parts = [b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size]) for i in range(0, len(data), size)]
    return [*parts, b"0\r\n\r\n"]


@pytest_asyncio.fixture
async def gateway_with_limits(platform):
    async with FakeUpstream() as upstream:
        settings = settings_for(
            platform, upstream.url, gateway_max_body_bytes=LIMIT, gateway_max_webhook_body_bytes=WEBHOOK_LIMIT
        )
        async with served(create_app(settings)):
            yield upstream


async def test_a_content_length_past_the_limit_is_refused_before_the_body_is_read(platform, gateway_with_limits):
    tenant = await tenant_on_plan(platform, "standard")
    status, headers, body = await exchange(
        f"POST /v1/discovery/creators HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {tenant.key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {LIMIT + 1}\r\n"
    )
    assert status == 413
    assert json.loads(body) == {
        "error": "payload_too_large",
        "detail": f"the request body is larger than this route's limit of {LIMIT} bytes",
    }
    assert headers["x-correlation-id"]
    assert gateway_with_limits.received == []


async def test_webhooks_have_their_own_limit(gateway_with_limits):
    head = "POST /webhooks/generic/some-source HTTP/1.1\r\nHost: gateway\r\nContent-Length: {}\r\n"
    within, _, _ = await exchange(head.format(LIMIT + 1), [b"x" * (LIMIT + 1)])
    past, _, body = await exchange(head.format(WEBHOOK_LIMIT + 1))
    assert within != 413
    assert past == 413
    assert str(WEBHOOK_LIMIT) in json.loads(body)["detail"]


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(platform, gateway_with_limits):
    tenant = await tenant_on_plan(platform, "standard")
    head = (
        f"POST /v1/discovery/creators HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {tenant.key}\r\n"
        "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n"
    )
    status, _, body = await exchange(head, chunked(b"x" * (LIMIT * 5)))
    assert status == 413
    assert json.loads(body)["error"] == "payload_too_large"
    # Under the limit, the same request passes through whole.
    status, _, _ = await exchange(head, chunked(b"y" * (LIMIT - 10)))
    assert status == 200
