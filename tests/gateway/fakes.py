"""Misbehaving upstreams at their HTTP boundary, and a gateway served by a real uvicorn.

The fake upstream is a raw asyncio server so a test controls exactly when bytes are written and
when the connection closes, which no well-behaved framework would let it do.
"""

import asyncio
import json
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI

from services.gateway.config import GatewaySettings

BASE = int(os.environ.get("LIMELIGHT_TEST_PORT_BASE", "18000"))
# Listeners the gateway tests start themselves; inside this suite's own port range.
GATEWAY_UNDER_TEST_PORT = BASE + 50
OPERATOR_UNDER_TEST_PORT = BASE + 51


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeUpstream:
    """Answers every request with 200 and a JSON echo of what it received.

    `delay`: seconds before answering. `requests_per_connection`: after that many answers on one
    connection, the next request on it is read and the connection closed without a byte of
    answer — the race a keep-alive timeout creates when it fires as a request arrives.
    `headers`: extra response headers. `padding`: bytes added to the body. Requests for
    `/openapi.json` (the gateway fetches every upstream's document in the background, on a client
    of its own) are answered by the same rules but kept in `documents`, not `received`; their
    body is `document` when one is given.
    """

    delay: float = 0.0
    requests_per_connection: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    padding: int = 0
    received: list[Received] = field(default_factory=list)
    documents: list[Received] = field(default_factory=list)
    document: dict | None = None
    connections: int = 0
    url: str = ""

    async def __aenter__(self) -> "FakeUpstream":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *_) -> None:
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                (self.documents if request.path == "/openapi.json" else self.received).append(request)
                if self.requests_per_connection is not None and answered >= self.requests_per_connection:
                    return
                await asyncio.sleep(self.delay)
                if request.path == "/openapi.json" and self.document is not None:
                    body = json.dumps(self.document).encode()
                else:
                    body = json.dumps({"path": request.path, "headers": request.headers, "pad": "x" * self.padding}).encode()
                head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}"]
                head += [f"{name}: {value}" for name, value in self.headers]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                await writer.drain()
                answered += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Received | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Received(method, path, headers, body)


def gateway_settings(platform, **overrides) -> GatewaySettings:
    """Settings of a gateway in front of the suite's real services, changed by `overrides`."""
    env = platform.service_env("gateway")
    values = {
        "database_url": env["DATABASE_URL"],
        "gateway_identity_private_key": env["GATEWAY_IDENTITY_PRIVATE_KEY"],
        "gateway_secrets_key": env["GATEWAY_SECRETS_KEY"],
        "identity_public_key": env["IDENTITY_PUBLIC_KEY"],
        "kafka_bootstrap_servers": platform.s.kafka_bootstrap,
        "discovery_url": platform.s.url("discovery"),
        "audit_url": platform.s.url("audit"),
        "attribution_url": platform.s.url("attribution"),
        "gateway_operator_port": 0,
        # Out of the way like the suite's own gateway (tests/conftest.py SERVICE_ENV): tests of the
        # limits pass their own.
        "gateway_rate_limits": {"standard": {"rate": 100000, "burst": 100000}},
        "gateway_address_rate_limit": {"rate": 100000, "burst": 100000},
    }
    return GatewaySettings(**(values | overrides))


@asynccontextmanager
async def served(app: FastAPI, port: int = GATEWAY_UNDER_TEST_PORT):
    """`app` behind a real uvicorn server on 127.0.0.1:`port`, for tests that need real sockets."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
