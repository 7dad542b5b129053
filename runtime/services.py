"""The four services as separate uvicorn processes."""

import sys

import httpx

from runtime import procs
from runtime.config import ROOT, SERVICES, RuntimeSettings

# Start order: upstreams before the gateway that fronts them.
START_ORDER = ("discovery", "audit", "attribution", "gateway")


def service_env(settings: RuntimeSettings, service: str, database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap,
        "PYTHONUNBUFFERED": "1",
    }
    if service == "gateway":
        env.update({f"{s.upper()}_URL": settings.url(s) for s in SERVICES if s != "gateway"})
        env["GATEWAY_OPERATOR_PORT"] = str(settings.operator_port)
    env.update(extra or {})
    return env


def start(settings: RuntimeSettings, service: str, env: dict[str, str]) -> int:
    argv = [
        sys.executable, "-m", "uvicorn", f"services.{service}.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(settings.port(service)),
        "--no-access-log", "--timeout-graceful-shutdown", "20",
    ]
    if service == "gateway":
        # The edge: a client's X-Forwarded-For is never trusted, even one connecting from 127.0.0.1.
        argv.append("--no-proxy-headers")
    return procs.start(
        service, argv, run_dir=settings.run_dir, log_file=settings.logs_dir / f"{service}.log",
        env=procs.child_env(env), cwd=ROOT,
    )


def healthy(settings: RuntimeSettings, service: str, probe: str = "readyz") -> dict | None:
    try:
        # The gateway answers /readyz only on its operator port, never on the public one.
        base = f"http://127.0.0.1:{settings.operator_port}" if service == "gateway" else settings.url(service)
        response = httpx.get(f"{base}/{probe}", timeout=2)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def wait_healthy(settings: RuntimeSettings, service: str, timeout: float = 60) -> None:
    try:
        procs.wait_until(
            lambda: healthy(settings, service) is not None,
            timeout=timeout,
            what=service,
            alive=lambda: procs.running(service, settings.run_dir) is not None,
        )
    except (RuntimeError, TimeoutError) as exc:
        log = settings.logs_dir / f"{service}.log"
        raise RuntimeError(f"{exc}\n--- {log} ---\n{procs.tail(log)}") from exc


def stop(settings: RuntimeSettings, service: str) -> bool:
    return procs.stop(service, settings.run_dir, timeout=30)
