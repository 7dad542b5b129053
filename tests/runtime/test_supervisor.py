"""`limelight up` keeps the platform running: a dead service comes back on its own, one service
restarts without touching the others, and `up` never disturbs a platform that already runs.

These tests drive the `limelight` command itself against a platform of their own (own state
folder, ports at LIMELIGHT_TEST_PORT_BASE+100..), so the suite's platform is never touched.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from runtime import procs, services
from runtime.config import ROOT, RuntimeSettings
from runtime.kafka import Kafka
from tests.runtime.helpers import log_lines

pytestmark = pytest.mark.integration

BASE = int(os.environ.get("LIMELIGHT_TEST_PORT_BASE", "18000")) + 100


def own_settings() -> RuntimeSettings:
    return RuntimeSettings(
        state_dir=ROOT / ".limelight" / "test-supervisor",
        gateway_port=BASE,
        discovery_port=BASE + 1,
        audit_port=BASE + 2,
        attribution_port=BASE + 3,
        kafka_port=BASE + 10,
        kafka_controller_port=BASE + 11,
        kafka_heap="256m",
    )


def cli_env(s: RuntimeSettings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "LIMELIGHT_STATE_DIR": str(s.state_dir),
            "LIMELIGHT_KAFKA_PORT": str(s.kafka_port),
            "LIMELIGHT_KAFKA_CONTROLLER_PORT": str(s.kafka_controller_port),
            "LIMELIGHT_KAFKA_HEAP": s.kafka_heap,
            **{f"LIMELIGHT_{svc.upper()}_PORT": str(s.port(svc)) for svc in services.START_ORDER},
            # One key asks as fast as it can while a service restarts: availability is under
            # test here, not the rate limit.
            "GATEWAY_RATE_LIMITS": '{"standard": {"rate": 100000, "burst": 100000}}',
        }
    )
    return env


def limelight(s: RuntimeSettings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        env=cli_env(s), cwd=ROOT, capture_output=True, text=True, timeout=400,
    )


def pid(s: RuntimeSettings, name: str) -> int | None:
    process = procs.running(name, s.run_dir)
    return process.pid if process else None


def ready_with_new_pid(s: RuntimeSettings, service: str, old_pid: int) -> bool:
    now = pid(s, service)
    return now is not None and now != old_pid and services.healthy(s, service) is not None


@pytest.fixture(scope="module")
def supervised():
    s = own_settings()
    limelight(s, "down")
    for folder in ("kafka", "postgres", "run", "logs"):
        shutil.rmtree(s.state_dir / folder, ignore_errors=True)
    try:
        result = limelight(s, "up", "--detach")
        assert result.returncode == 0, result.stdout + result.stderr
        yield s
    finally:
        limelight(s, "down")


def test_up_on_a_running_platform_starts_nothing(supervised):
    s = supervised
    names = [*services.START_ORDER, "kafka", "supervisor"]
    before = {name: pid(s, name) for name in names}

    result = limelight(s, "up", "--detach")

    assert result.returncode == 0, result.stdout + result.stderr
    assert {name: pid(s, name) for name in names} == before


def test_killed_service_is_started_again_and_becomes_ready(supervised):
    s = supervised
    audit = procs.running("audit", s.run_dir)
    audit.kill()
    audit.wait(10)

    procs.wait_until(lambda: ready_with_new_pid(s, "audit", audit.pid), timeout=90, what="audit back")


def test_status_counts_the_restarts_of_a_service(supervised):
    s = supervised
    attribution = procs.running("attribution", s.run_dir)
    attribution.kill()
    attribution.wait(10)
    procs.wait_until(lambda: ready_with_new_pid(s, "attribution", attribution.pid), timeout=90, what="attribution back")

    result = limelight(s, "status")

    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert rows["attribution"][-1] == "restarts=1", result.stdout
    assert rows["gateway"][-1] == "restarts=0", result.stdout


def test_restarting_one_service_leaves_the_gateway_running_and_answering(supervised):
    s = supervised
    # The first key, made the way a newcomer makes it (README quick start).
    made = limelight(s, "admin", "create-tenant", "supervisor test")
    assert made.returncode == 0, made.stdout + made.stderr
    key = next(line.split()[-1] for line in made.stdout.splitlines() if line.startswith("API key:"))
    assert key.startswith("ll_live_")
    gateway_pid, audit_pid = pid(s, "gateway"), pid(s, "audit")
    answers: list[int] = []
    done = threading.Event()

    def ask_gateway() -> None:
        with httpx.Client(base_url=s.url("gateway"), timeout=10, headers={"Authorization": f"Bearer {key}"}) as client:
            while not done.is_set():
                try:
                    answers.append(client.get("/v1/discovery/creators", params={"limit": 1}).status_code)
                except httpx.HTTPError:
                    answers.append(0)

    asker = threading.Thread(target=ask_gateway)
    asker.start()
    try:
        result = limelight(s, "restart", "audit")
    finally:
        done.set()
        asker.join(30)

    assert result.returncode == 0, result.stdout + result.stderr
    assert pid(s, "audit") not in (None, audit_pid)
    assert services.healthy(s, "audit") is not None
    assert pid(s, "gateway") == gateway_pid
    failed = [a for a in answers if a != 200]
    assert answers and not failed, f"{len(failed)} of {len(answers)} answers were not 200: {failed[:10]}"


def kafka_complaints(s: RuntimeSettings) -> dict[str, int]:
    """Per service, the aiokafka warnings and errors in its logs so far."""
    counts = {}
    for service in services.START_ORDER:
        counts[service] = sum(
            1
            for line in log_lines(s.logs_dir, service)
            if '"logger": "aiokafka' in line and ('"WARNING"' in line or '"ERROR"' in line)
        )
    return counts


def test_broker_outage_writes_a_few_kafka_errors_not_a_flood(supervised):
    s = supervised
    before = kafka_complaints(s)
    Kafka(s).stop()
    try:
        # Long enough for aiokafka to retry its connections hundreds of times.
        time.sleep(20)
    finally:
        restored = limelight(s, "up", "--detach")
    assert restored.returncode == 0, restored.stdout + restored.stderr

    after = kafka_complaints(s)
    during = {service: after[service] - before[service] for service in services.START_ORDER}
    # A handful of distinct complaints, each written once; unthinned, this outage wrote
    # thousands of lines per service.
    assert all(count <= 50 for count in during.values()), during


def test_failed_up_leaves_the_running_platform_running(supervised):
    s = supervised
    # The gateway is gone (and no supervisor brings it back) and another program holds its port.
    procs.stop("supervisor", s.run_dir, sig=signal.SIGKILL)
    services.stop(s, "gateway")
    survivors = ["discovery", "audit", "attribution", "kafka"]
    before = {name: pid(s, name) for name in survivors}
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        squatter.bind(("127.0.0.1", s.gateway_port))
        squatter.listen()
        result = limelight(s, "up", "--detach")
    finally:
        squatter.close()

    assert result.returncode != 0, result.stdout
    assert f"port {s.gateway_port} is in use" in result.stdout
    assert {name: pid(s, name) for name in survivors} == before
    assert all(services.healthy(s, svc) is not None for svc in ["discovery", "audit", "attribution"])
    restored = limelight(s, "up", "--detach")
    assert restored.returncode == 0, restored.stdout + restored.stderr
