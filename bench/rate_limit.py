"""Cost of the per-key rate limit: the gateway's traffic layers driven in process, with and
without the limiter, in the same run, against a real PostgreSQL holding the shared buckets.

Run on purpose, never from pytest: `.venv/bin/python bench/rate_limit.py [--requests 20000]`.
Starts its own PostgreSQL in .limelight/bench-rate-limit (no Kafka, no services: only the
gateway's migrations) and stops it on the way out; or, with --database-url (the gateway role's
SQLAlchemy URL, e.g. from `limelight up`), uses a running one. Figures go to stdout.

What is measured is the layers alone: a request is one ASGI call into the stack, the identity
already set (as `Authenticate` leaves it), answered by a bare app. For each lease size the run
prints microseconds per request (wall and CPU; one request at a time, so a lease's round trip is
in the wall time) and leases asked of the database per 1,000 requests, beside the same stack
without the limiter. The plan is wide enough that every request is accepted: the accept path is
the one every legitimate request pays.
"""

import argparse
import asyncio
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

from runtime.config import ROOT, RuntimeSettings
from runtime.postgres import Postgres
from services.gateway.traffic.body import BodyLimit
from services.gateway.traffic.headers import Cors, ResponseHeaders
from services.gateway.traffic.leases import SharedLimiter
from services.gateway.traffic.limits import LocalLimiter, PlanLimit
from services.gateway.traffic.policy import TrafficPolicy
from services.gateway.traffic.ratelimit import AddressRateLimit, KeyRateLimit
from shared.db import make_engine
from shared.identity import Identity, set_identity
from shared.migrations import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import record  # noqa: E402

PLAN = PlanLimit(rate=1_000_000, burst=10_000_000)
# Lease sizes to compare: lease = rate × lease_seconds (the setting), so these are 1 … 1,000 tokens.
LEASES = (1, 10, 100, 1000)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class _State:
    def __init__(self, **values):
        self.__dict__.update(values)


class _App:
    """What the layers see as `scope["app"]`: only its state."""

    def __init__(self, traffic: TrafficPolicy):
        self.state = _State(traffic=traffic)


async def answer(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


def stack(with_limiter: bool, all_layers: bool = False):
    """The bottom of the gateway's edge: identity set, then (or not) the per-key limit; with
    `all_layers`, every traffic layer in the gateway's order around it (services/gateway/main.py)."""
    inner = KeyRateLimit(answer) if with_limiter else answer
    identity = Identity(
        tenant_id=uuid.uuid4(), subject="key:bench", scopes=frozenset({"discovery:read"}), key_id=str(uuid.uuid4())
    )

    async def authenticated(scope, receive, send) -> None:
        set_identity(scope, identity)
        await inner(scope, receive, send)

    if not all_layers:
        return authenticated
    return ResponseHeaders(Cors(AddressRateLimit(BodyLimit(authenticated))))


async def run(app, traffic: TrafficPolicy, requests: int) -> tuple[float, float]:
    """Wall and CPU microseconds per request over `requests` sequential requests."""

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses = []

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    owner = _App(traffic)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        scope = {
            "type": "http", "method": "GET", "path": "/v1/discovery/creators", "headers": [], "app": owner,
            "client": ("127.0.0.1", 50_000),
        }
        await app(scope, receive, send)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if set(statuses) != {200}:
        raise SystemExit(f"the bench plan refused requests: {sorted(set(statuses))}")
    return wall / requests * 1e6, cpu / requests * 1e6


def policy(limiter: SharedLimiter) -> TrafficPolicy:
    return TrafficPolicy(
        keys=limiter, addresses=LocalLimiter(), plans={"standard": PLAN}, address_limit=PLAN,
        max_body_bytes=1 << 20, max_webhook_body_bytes=1 << 20, cors_origins=(), cors_max_age=0,
    )


async def measure(database_url: str, requests: int, rounds: int) -> None:
    engine = make_engine(database_url, pool_size=2, application_name="bench-rate-limit")
    try:
        # Warm up: the pool's connections, the statement's preparation, the interpreter's caches.
        warm = SharedLimiter(engine, lease_seconds=10 / PLAN.rate)
        await run(stack(True), policy(warm), 2000)
        await run(stack(False), policy(warm), 2000)
        rows = []
        for lease in LEASES:
            results: dict[str, list[tuple[float, float]]] = {"baseline": [], "limited": []}
            trips = []
            # Interleaved rounds: load from elsewhere on a shared machine hits both sides alike.
            for _ in range(rounds):
                limiter = SharedLimiter(engine, lease_seconds=lease / PLAN.rate)
                assert limiter.lease_size(PLAN) == lease
                results["baseline"].append(await run(stack(False), policy(limiter), requests))
                results["limited"].append(await run(stack(True), policy(limiter), requests))
                trips.append(limiter.round_trips / requests * 1000)
            base_wall = statistics.median(w for w, _ in results["baseline"])
            base_cpu = statistics.median(c for _, c in results["baseline"])
            wall = statistics.median(w for w, _ in results["limited"])
            cpu = statistics.median(c for _, c in results["limited"])
            rows.append((str(lease), base_wall, base_cpu, wall, cpu, statistics.median(trips)))
        # Every traffic layer (headers, CORS off, address limit, body limit, key limit with a
        # lease of 100) against none of them.
        bare, layered, trips = [], [], []
        for _ in range(rounds):
            limiter = SharedLimiter(engine, lease_seconds=100 / PLAN.rate)
            bare.append(await run(stack(False), policy(limiter), requests))
            layered.append(await run(stack(True, all_layers=True), policy(limiter), requests))
            trips.append(limiter.round_trips / requests * 1000)
        rows.append((
            "all layers, 100",
            statistics.median(w for w, _ in bare), statistics.median(c for _, c in bare),
            statistics.median(w for w, _ in layered), statistics.median(c for _, c in layered),
            statistics.median(trips),
        ))
    finally:
        await engine.dispose()
    print(f"{requests} sequential requests per run, median of {rounds} interleaved runs; µs per request")
    print(f"{'lease':>16} {'baseline wall':>14} {'baseline cpu':>13} {'limited wall':>13} {'limited cpu':>12} "
          f"{'added wall':>11} {'added cpu':>10} {'DB trips/1000':>14}")
    for lease, base_wall, base_cpu, wall, cpu, trips in rows:
        print(f"{lease:>16} {base_wall:>14.2f} {base_cpu:>13.2f} {wall:>13.2f} {cpu:>12.2f} "
              f"{wall - base_wall:>11.2f} {cpu - base_cpu:>10.2f} {trips:>14.1f}")
        # Recorded: leases of 10 and 100 (the default 0.5 s of the plans' 50-1,000/s is 25-500) and every layer.
        note = f"{trips:.1f} DB trips per 1,000 requests; median of {rounds} x {requests}"
        if lease in ("10", "100"):
            record(f"per-key limit, lease {lease}, CPU per request", cpu, "µs", baseline="no limiter",
                   baseline_value=base_cpu, note=note)
        elif lease == "all layers, 100":
            record("all traffic layers (lease 100), CPU per request", cpu, "µs", baseline="no layers",
                   baseline_value=base_cpu, note=note)
            record("all traffic layers (lease 100), wall per request", wall, "µs", baseline="no layers",
                   baseline_value=base_wall, note=note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved baseline/limited pairs per lease size")
    parser.add_argument("--port-base", type=int, default=29200, help="of the PostgreSQL it starts")
    parser.add_argument("--database-url", help="the gateway role's URL of a running, migrated database")
    args = parser.parse_args()
    if args.database_url:
        asyncio.run(measure(args.database_url, args.requests, args.rounds))
        return
    settings = RuntimeSettings(
        state_dir=ROOT / ".limelight" / "bench-rate-limit", gateway_port=args.port_base,
        discovery_port=args.port_base + 1, audit_port=args.port_base + 2, attribution_port=args.port_base + 3,
        kafka_port=args.port_base + 1092, kafka_controller_port=args.port_base + 1093,
    )
    shutil.rmtree(settings.state_dir / "postgres", ignore_errors=True)
    postgres = Postgres(settings)
    try:
        say("starting PostgreSQL…")
        server = postgres.start()
        postgres.bootstrap(server)
        url = postgres.service_url(server, "gateway")
        upgrade("gateway", url)
        asyncio.run(measure(url, args.requests, args.rounds))
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
