"""Per-request overhead of a simple read: discovery's `GET /creators?limit=10` against a bare
FastAPI + asyncpg endpoint running the same query in one transaction on the same database.

Both run under uvicorn with the same flags (uvloop, httptools, one worker) and are loaded by
`wrk` (1 thread, 16 connections, 127.0.0.1 only) one after the other in the same run; the
ratio of the two is the figure to watch, the absolute numbers depend on the machine.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import psutil
from fastapi import FastAPI, Query, Request

from runtime.config import ROOT, RuntimeSettings
from runtime.postgres import Postgres
from shared.identity import IDENTITY_HEADER, Identity, IdentitySigner, generate_keypair
from shared.migrations import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import record  # noqa: E402

STATE_DIR = ROOT / ".limelight" / "bench-http"
PATH = "/creators?limit=10"

# What discovery's repository sends for the first page, as plain SQL.
QUERY = """
select id, platform, handle, display_name, follower_count, audit_id, audit_status, audit_score,
       audit_updated_at, created_at, updated_at
from discovery.creators order by created_at, id limit $1
"""


def bare_app() -> FastAPI:
    """The reference: FastAPI and an asyncpg pool, nothing else (uvicorn factory)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pool = await asyncpg.create_pool(os.environ["BARE_DSN"], min_size=5, max_size=10)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/creators")
    async def creators(request: Request, limit: int = Query(50, ge=1, le=200)) -> dict:
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(QUERY, limit + 1)
        return {"items": [dict(r) for r in rows[:limit]], "next_cursor": None}

    return app


def _serve(name: str, app: str, port: int, env: dict[str, str], cwd: Path, app_dir: Path | None = None):
    argv = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log"]
    if app_dir is not None:
        argv += ["--app-dir", str(app_dir)]
    log = open(STATE_DIR / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env}, cwd=cwd)
    return process, log


def _wait_answering(url: str, process: subprocess.Popen, headers: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited")
        try:
            if httpx.get(url, timeout=2, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url}: no 200 within {timeout:.0f}s")


def _wrk(url: str, seconds: int, connections: int, headers: dict[str, str], pid: int | None = None) -> tuple[float, float]:
    """Requests per second, and the server's CPU time per request in microseconds (user +
    system of its process): the second figure barely moves when other work shares the cores."""
    cpu_before = sum(psutil.Process(pid).cpu_times()[:2]) if pid else 0.0
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", *[a for k, v in headers.items() for a in ("-H", f"{k}: {v}")], url],
        capture_output=True, text=True, check=True
    ).stdout
    cpu = sum(psutil.Process(pid).cpu_times()[:2]) - cpu_before if pid else 0.0
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"{url} answered errors under load:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), cpu / requests * 1e6


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-base", type=int, default=18150, help="discovery on it, the bare app on +1")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the two measurements this often")
    parser.add_argument(
        "--service-root", type=Path, action="append", default=None,
        help="run discovery from this source tree too (e.g. a git worktree of an older commit); repeatable",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not 1 <= args.duration <= 50:
        print("--duration must be 1..50: the identity token of a wrk run lives 60 s", file=sys.stderr)
        return 2
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)", file=sys.stderr)
        return 2
    settings = RuntimeSettings(state_dir=STATE_DIR, database_url=None)
    postgres = Postgres(settings)
    postgres.stop()
    for folder in ("postgres", "logs"):
        shutil.rmtree(STATE_DIR / folder, ignore_errors=True)
    (STATE_DIR / "logs").mkdir(parents=True, exist_ok=True)
    started: list[tuple[subprocess.Popen, object]] = []
    try:
        server = postgres.start()
        postgres.bootstrap(server)
        database_url = postgres.service_url(server, "discovery")
        upgrade("discovery", database_url)
        # API-only replica: no relay or consumers, so no Kafka is needed and none is started.
        # Discovery verifies the gateway's identity token on every request (ADR 0012): one is
        # minted here for each wrk run with a key pair of the bench's own (tokens live 60 s).
        private_pem, public_pem = generate_keypair()
        signer = IdentitySigner(private_pem)
        identity = Identity(tenant_id=uuid.uuid4(), subject="bench", scopes=frozenset({"discovery:read"}))

        def token() -> dict[str, str]:
            return {IDENTITY_HEADER: signer.token(identity, audience="discovery")}

        service_env = {"DATABASE_URL": database_url, "RUN_BACKGROUND_WORKERS": "false", "LOG_LEVEL": "INFO",
                       "IDENTITY_PUBLIC_KEY": public_pem}
        targets = {}
        roots = [("discovery", ROOT)] + [(f"discovery@{r}", r.resolve()) for r in args.service_root or []]
        for offset, (label, root) in enumerate(roots):
            port = args.port_base + 1 + offset
            started.append(_serve(label.replace("/", "_"), "services.discovery.main:create_app", port, service_env, root))
            targets[label] = f"http://127.0.0.1:{port}{PATH}"
        bare_env = {"BARE_DSN": database_url.replace("postgresql+asyncpg://", "postgresql://", 1)}
        started.append(_serve("bare", "http_read:bare_app", args.port_base, bare_env, ROOT, ROOT / "bench"))
        targets["bare"] = f"http://127.0.0.1:{args.port_base}{PATH}"
        for (process, _), url in zip(started, targets.values(), strict=True):
            _wait_answering(url, process, token())

        pids = [process.pid for process, _ in started]
        for url in targets.values():  # warm-up: pools filled, code paths hot
            _wrk(url, 2, args.connections, token())
        figures: dict[str, list[tuple[float, float]]] = {label: [] for label in targets}
        for _ in range(args.rounds):
            for pid, (label, url) in zip(pids, targets.items(), strict=True):
                figures[label].append(_wrk(url, args.duration, args.connections, token(), pid))

        load = os.getloadavg()[0]
        print(f"GET {PATH} on an empty table, wrk 1 thread {args.connections} connections "
              f"{args.duration}s x {args.rounds}, load average {load:.1f} on {os.cpu_count()} cores")
        bare_rate = max(rate for rate, _ in figures["bare"])
        bare_cpu = min(cpu for _, cpu in figures["bare"])
        for label, values in figures.items():
            rate, cpu = max(r for r, _ in values), min(c for _, c in values)
            print(f"  {label:<32} {rate:7.0f} req/s (ratio to bare {rate / bare_rate:.2f})   "
                  f"{cpu:6.0f} us CPU/request (bare / this {bare_cpu / cpu:.2f})")
            if label != "bare":  # the read path's target: >= 0.5 of bare, in req/s and in CPU per request
                note = f"best of {args.rounds} x {args.duration} s, wrk -c{args.connections}"
                record(f"{label} req/s", rate, "req/s", better="higher", baseline="bare FastAPI + asyncpg",
                       baseline_value=bare_rate, note=note)
                record(f"{label} CPU per request", cpu, "µs", baseline="bare FastAPI + asyncpg", baseline_value=bare_cpu,
                       note=note)
                record(f"{label} req/s, share of bare", rate / bare_rate, "ratio", target=0.5, better="higher", note=note)
                record(f"{label} CPU, bare / this", bare_cpu / cpu, "ratio", target=0.5, better="higher", note=note)
        return 0
    finally:
        for process, log in started:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
        postgres.stop()


if __name__ == "__main__":
    sys.exit(main())
