"""One failed request, one log line: a bug is a 500 logged once with its traceback, and a
client that hangs up mid-upload is neither a 500 nor an error report.

The service under test is built by `create_service_app` exactly as the four services are,
with two endpoints no real service should have, and runs under uvicorn in its own process
on the suite's database, so the server's own logging is part of what is tested."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter, FastAPI, Request

from runtime.config import ROOT
from shared.app import create_service_app
from shared.identity import public
from shared.settings import ServiceSettings
from tests.conftest import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def create_faulty_app() -> FastAPI:
    router = APIRouter()

    # Public: the routes exercise error handling, not credentials (every route declares one).
    @router.get("/bug", dependencies=[public()])
    async def bug() -> dict:
        raise RuntimeError("a bug")

    @router.post("/upload", dependencies=[public()])
    async def upload(request: Request) -> dict:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    return create_service_app(
        name="faulty", settings=ServiceSettings(), title="faulty", description="test only", router=router
    )


def _free_port_in_suite_range() -> int:
    base = int(os.environ.get("LIMELIGHT_TEST_PORT_BASE", "18000"))
    for port in range(base + 50, base + 100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in the suite's range")


@pytest_asyncio.fixture(scope="module")
async def faulty(platform, tmp_path_factory):
    port = _free_port_in_suite_range()
    log_path = tmp_path_factory.mktemp("faulty") / "faulty.log"
    env = {**os.environ, **platform.service_env("discovery"), "RUN_BACKGROUND_WORKERS": "false"}
    # Its log is what this test reads: to stdout, not into discovery's own log file.
    for name in ("LOG_FILE", "LOG_FILE_MAX_BYTES", "LOG_FILE_BACKUPS"):
        env.pop(name, None)
    argv = [
        sys.executable, "-m", "uvicorn", "tests.shared.test_errors_logging:create_faulty_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port),
    ]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def healthy() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(healthy)
            yield client, port, log_path
    finally:
        process.terminate()
        process.wait(timeout=30)


def _records(log_path) -> list[dict]:
    records = []
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            records.append({"message": line})
    return records


async def _wait_until_logged(log_path, correlation_id: str) -> None:
    async def logged() -> bool:
        return any(r.get("correlation_id") == correlation_id for r in _records(log_path))

    await eventually(logged)


def _reports(records: list[dict], correlation_id: str) -> list[dict]:
    """What was logged about one request, access-log lines aside (those record every request)."""
    return [r for r in records if r.get("correlation_id") == correlation_id and r.get("logger") != "uvicorn.access"]


async def test_a_bug_is_answered_500_and_logged_once(faulty):
    client, _, log_path = faulty
    failing, marker = uuid.uuid4().hex, uuid.uuid4().hex
    before = len(_records(log_path))

    response = await client.get("/bug", headers={"X-Correlation-ID": failing})
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "detail": f"unexpected error; quote correlation id {failing}"}
    # Once a later request is logged, all the server had to say about the first one is in the
    # file. A new connection: a server that let the error escape has closed the first one.
    async with httpx.AsyncClient(base_url=client.base_url, timeout=10) as second:
        await second.get("/bug", headers={"X-Correlation-ID": marker})
    await _wait_until_logged(log_path, marker)

    new = _records(log_path)[before:]
    reports = _reports(new, failing)
    assert len(reports) == 1, reports
    assert "RuntimeError: a bug" in reports[0]["exc_info"]
    # One traceback per request (this one and the marker), none repeated by the server.
    assert len([r for r in new if "RuntimeError: a bug" in r.get("exc_info", "")]) == 2


async def test_client_hanging_up_mid_upload_is_not_an_error(faulty):
    client, port, log_path = faulty
    hung_up = uuid.uuid4().hex
    before = len(_records(log_path))

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Correlation-ID: {hung_up}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n".encode() + b"x" * 1000
    )
    await writer.drain()
    await asyncio.sleep(0.2)  # let the server start reading the body before the client goes
    writer.close()
    await writer.wait_closed()
    await _wait_until_logged(log_path, hung_up)

    new = _records(log_path)[before:]
    assert [r for r in _reports(new, hung_up) if r.get("level") in ("ERROR", "CRITICAL")] == []
    metrics = (await client.get("/metrics")).text
    assert 'route="/upload",service="faulty",status="500"' not in metrics
