"""Service logs under `limelight up` stay readable and bounded: no line per request, rotated by size.

The suite's services are started exactly as `limelight up` starts them (runtime/services.py).
"""

import os
import shutil

import httpx
import pytest

from runtime import procs, services
from runtime.config import ROOT
from runtime.keys import installation_keys
from tests.conftest import SERVICE_ENV, bearer
from tests.runtime.helpers import log_lines

pytestmark = pytest.mark.integration

BASE = int(os.environ.get("LIMELIGHT_TEST_PORT_BASE", "18000")) + 100


def proxy_some_requests(base_url: str, count: int, key: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10, headers=bearer(key)) as client:
        for _ in range(count):
            assert client.get("/v1/discovery/creators", params={"limit": 1}).status_code == 200


def test_gateway_writes_no_access_log_lines(platform, tenant):
    proxy_some_requests(platform.s.url("gateway"), 20, tenant.key)

    access = [line for line in log_lines(platform.s.logs_dir, "gateway") if "uvicorn.access" in line]
    assert access == []


def test_gateway_writes_no_line_per_proxied_request(platform, tenant):
    proxy_some_requests(platform.s.url("gateway"), 20, tenant.key)

    per_request = [line for line in log_lines(platform.s.logs_dir, "gateway") if "HTTP Request:" in line]
    assert per_request == []


def test_service_log_past_the_size_limit_is_rotated(platform, tenant):
    # A second gateway, API only, in a state folder of its own and logging at DEBUG so that
    # every proxied request writes lines, with a small size limit.
    max_bytes, backups = 4096, 2
    s = platform.s.model_copy(
        update={
            "state_dir": ROOT / ".limelight" / "test-rotation",
            "gateway_port": BASE + 50,
            "log_max_bytes": max_bytes,
            "log_backups": backups,
        }
    )
    shutil.rmtree(s.state_dir, ignore_errors=True)
    env = services.service_env(
        s, "gateway", platform.service_env("gateway")["DATABASE_URL"],
        # The suite's keys: the services behind it verify the identity it signs with them.
        {**SERVICE_ENV, **installation_keys(platform.s.state_dir).service_env("gateway"),
         "LOG_LEVEL": "DEBUG", "RUN_BACKGROUND_WORKERS": "false"},
    )
    rotated = s.logs_dir / "gateway.log.1"
    try:
        services.start(s, "gateway", env)
        services.wait_healthy(s, "gateway")
        procs.wait_until(
            lambda: rotated.exists() or proxy_some_requests(s.url("gateway"), 5, tenant.key), timeout=120, what="log rotation"
        )
        logs = sorted(s.logs_dir.glob("gateway.log*"))
        assert len(logs) <= backups + 1, logs
        # A file may pass the limit only by a single line longer than the limit itself.
        oversized = [p.name for p in logs if p.stat().st_size > max_bytes and len(p.read_text().splitlines()) > 1]
        assert oversized == [], [(p.name, p.stat().st_size) for p in logs]
    finally:
        services.stop(s, "gateway")
        shutil.rmtree(s.state_dir, ignore_errors=True)
