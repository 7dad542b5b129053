"""The four services as separate uvicorn processes."""

import subprocess
import sys
from pathlib import Path

import httpx

from runtime import procs
from runtime.config import ROOT, SERVICES, RuntimeSettings
from runtime.keys import installation_keys

# Start order: upstreams before the gateway that fronts them.
START_ORDER = ("discovery", "audit", "attribution", "gateway")


def service_env(settings: RuntimeSettings, service: str, database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap,
        "PYTHONUNBUFFERED": "1",
        # The service writes its own log and rotates it (docs/decisions/0007): a log written
        # through a redirected stdout cannot be rotated without the writer's help.
        "LOG_FILE": str(log_file(settings, service)),
        "LOG_FILE_MAX_BYTES": str(settings.log_max_bytes),
        "LOG_FILE_BACKUPS": str(settings.log_backups),
    }
    env.update(installation_keys(settings.state_dir).service_env(service))
    if service == "gateway":
        env.update({f"{s.upper()}_URL": settings.url(s) for s in SERVICES if s != "gateway"})
        env["GATEWAY_OPERATOR_PORT"] = str(settings.operator_port)
    env.update(extra or {})
    return env


def ports(settings: RuntimeSettings, service: str) -> dict[str, int]:
    """Every port the service listens on, by the setting that moves it."""
    listening = {f"LIMELIGHT_{service.upper()}_PORT": settings.port(service)}
    if service == "gateway":
        listening["LIMELIGHT_GATEWAY_OPERATOR_PORT"] = settings.operator_port
    return listening


def log_file(settings: RuntimeSettings, service: str) -> Path:
    """The service's JSON log, rotated by the service itself."""
    return settings.logs_dir / f"{service}.log"


def output_file(settings: RuntimeSettings, service: str) -> Path:
    """What the process prints outside logging: start-up failures, tracebacks of a crash."""
    return settings.logs_dir / f"{service}.stdout.log"


def start(settings: RuntimeSettings, service: str, env: dict[str, str]) -> subprocess.Popen:
    argv = [
        sys.executable, "-m", "uvicorn", f"services.{service}.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(settings.port(service)),
        "--no-access-log", "--timeout-graceful-shutdown", "20",
    ]
    if service == "gateway":
        # The edge: a client's X-Forwarded-For is never trusted, even one connecting from 127.0.0.1.
        argv.append("--no-proxy-headers")
    output = output_file(settings, service)
    procs.rotate_if_larger(output, settings.log_max_bytes)
    return procs.start(service, argv, run_dir=settings.run_dir, log_file=output, env=procs.child_env(env), cwd=ROOT)


def healthy(settings: RuntimeSettings, service: str, probe: str = "readyz") -> dict | None:
    try:
        # The gateway answers /readyz only on its operator port, never on the public one.
        base = f"http://127.0.0.1:{settings.operator_port}" if service == "gateway" else settings.url(service)
        response = httpx.get(f"{base}/{probe}", timeout=2)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def wait_healthy(settings: RuntimeSettings, service: str, timeout: float = 60, alive=None) -> None:
    """Wait for readiness; `alive` says whether waiting still makes sense (default: the process runs)."""
    try:
        procs.wait_until(
            lambda: healthy(settings, service) is not None,
            timeout=timeout,
            what=service,
            alive=alive or (lambda: procs.running(service, settings.run_dir) is not None),
        )
    except (RuntimeError, TimeoutError) as exc:
        logs = (log_file(settings, service), output_file(settings, service))
        tails = "".join(f"\n--- {path} ---\n{procs.tail(path)}" for path in logs)
        raise RuntimeError(f"{exc}{tails}") from exc


def stop(settings: RuntimeSettings, service: str) -> bool:
    return procs.stop(service, settings.run_dir, timeout=30)
