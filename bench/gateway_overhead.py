"""Gateway overhead: the same authenticated read measured directly against discovery and through
the gateway, in the same run, with wrk, and the ratio gateway / direct.

Run on purpose, never from pytest: `.venv/bin/python bench/gateway_overhead.py [--duration 10]`.
Starts its own platform in .limelight/bench-gateway on 127.0.0.1 ports from --port-base (Kafka at
base+1092/+1093, as the test suite lays them out), makes a tenant and its first API key there
(`runtime.admin.new_tenant`) and stops everything on the way out. Needs `wrk`. Figures go to
stdout, progress to stderr.

Both sides are authenticated the way production traffic is:
- through the gateway: `GET /v1/discovery/creators?limit=10` with `Authorization: Bearer ll_…`;
  the gateway looks the key up, checks `discovery:read`, mints an identity token per request;
- direct: `GET /creators?limit=10` on discovery with an `X-Limelight-Identity` token minted
  here with the installation's private key (tokens live 60 s: one is minted per wrk run).
Discovery verifies a token on every request on both sides.

Two measurements, interleaved direct/gateway so that load from elsewhere hits both alike:
- throughput: `wrk -t1 -c<connections>`, saturated. Its p50/p99 are printed too, but there they
  are queueing time (about connections ÷ throughput) and only restate the throughput ratio;
- latency: `wrk -t1 -c1`, one request at a time: the time a request spends in each stack. The
  added p50 is gateway p50 - direct p50 from these runs.
It also prints the CPU time each process spent per request (from its own counters), which moves
much less than throughput on a shared machine: the gateway's CPU per proxied request is its
overhead, whatever the machine is doing.
"""

import argparse
import asyncio
import shutil
import statistics
import sys
from pathlib import Path

import httpx
import psutil

from runtime import procs
from runtime.admin import gateway_database_url, new_tenant
from runtime.keys import installation_keys
from runtime.platform import Platform
from shared.identity import IDENTITY_HEADER, Identity, IdentitySigner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402
from bench.harness import Run, bench_settings, cpu_seconds, say  # noqa: E402

PATH = "/creators?limit=10"
SEED_CREATORS = 50
# Identity tokens live 60 s (shared.identity.TOKEN_TTL_SECONDS): a wrk run must end before its
# token expires, with room for the clock leeway.
MAX_DURATION = 45


def wrk(url: str, headers: dict[str, str], duration: int, connections: int) -> Run:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    return harness.wrk(argv + [url], timeout=duration + 30)


class Sides:
    """The two ways to the same read, each with its credentials."""

    def __init__(self, gateway: str, direct: str, key: str, signer: IdentitySigner, identity: Identity):
        self.gateway_url = f"{gateway}/v1/discovery{PATH}"
        self.direct_url = f"{direct}{PATH}"
        self.key = key
        self.signer = signer
        self.identity = identity

    def request(self, side: str) -> tuple[str, dict[str, str]]:
        """URL and headers; the direct side gets a freshly minted token each time it is asked."""
        if side == "gateway":
            return self.gateway_url, {"Authorization": f"Bearer {self.key}"}
        return self.direct_url, {IDENTITY_HEADER: self.signer.token(self.identity, audience="discovery")}


def seed(gateway: str, key: str) -> None:
    with httpx.Client(base_url=gateway, timeout=10, headers={"Authorization": f"Bearer {key}"}) as client:
        for n in range(SEED_CREATORS):
            response = client.post("/v1/discovery/creators", json={"platform": "tiktok", "handle": f"bench_{n}"})
            if response.status_code not in (200, 201):
                raise SystemExit(f"seeding answered {response.status_code}: {response.text}")


def measure(sides: Sides, duration: int, connections: int, rounds: int, processes: dict[str, psutil.Process]) -> None:
    for side in ("direct", "gateway"):
        url, headers = sides.request(side)
        response = httpx.get(url, headers=headers, timeout=10)
        if response.status_code != 200:
            raise SystemExit(f"{side}: {url} answered {response.status_code} {response.text}; nothing to measure")
        wrk(*sides.request(side), 2, connections)
    runs: dict[tuple[str, int], list[Run]] = {}
    # CPU milliseconds per request: discovery on both sides, the gateway on its own.
    cpu: dict[str, list[float]] = {"discovery direct": [], "discovery via gateway": [], "gateway": []}
    # Interleaved rounds: on a shared machine, load from elsewhere hits both sides alike.
    for n in range(rounds):
        for c in (connections, 1):
            for side in ("direct", "gateway"):
                before = {name: cpu_seconds(p) for name, p in processes.items()}
                run = wrk(*sides.request(side), duration, c)
                spent = {name: cpu_seconds(p) - before[name] for name, p in processes.items()}
                runs.setdefault((side, c), []).append(run)
                if c == connections:
                    cpu["discovery direct" if side == "direct" else "discovery via gateway"].append(
                        1000 * spent["discovery"] / run.done
                    )
                    if side == "gateway":
                        cpu["gateway"].append(1000 * spent["gateway"] / run.done)
                say(f"  round {n + 1}: {side:7} -c{c:<3} {run.rate:8.0f} req/s  p50 {run.p50_ms:6.2f} ms  "
                    f"p99 {run.p99_ms:6.2f} ms")

    def med(side: str, c: int, field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs[(side, c)])

    errors = sum(r.bad for rs in runs.values() for r in rs)
    print(f"GET /v1/discovery{PATH} (API key) vs GET {PATH} on discovery (identity token); "
          f"wrk -t1 -d{duration}s --latency, median of {rounds} interleaved rounds")
    load = " ".join(f"{x:.2f}" for x in psutil.getloadavg())
    print(f"cores {psutil.cpu_count()}  load average at the end {load}")
    for c, label in ((connections, "throughput"), (1, "latency")):
        print(f"-c{c} ({label})")
        for side in ("direct", "gateway"):
            print(f"  {side:8} {med(side, c, 'rate'):8.0f} req/s  p50 {med(side, c, 'p50_ms'):6.2f} ms  "
                  f"p99 {med(side, c, 'p99_ms'):6.2f} ms")
        ratio = med("gateway", c, "rate") / med("direct", c, "rate")
        added = med("gateway", c, "p50_ms") - med("direct", c, "p50_ms")
        print(f"  ratio    {ratio:8.2f}  (gateway / direct req/s)")
        print(f"  added p50 {added:6.2f} ms  (gateway - direct)")
    print(f"non-2xx or socket errors  {errors}")
    print(f"cpu ms/request (-c{connections})  discovery direct {statistics.median(cpu['discovery direct']):.3f}  "
          f"discovery via gateway {statistics.median(cpu['discovery via gateway']):.3f}  "
          f"gateway {statistics.median(cpu['gateway']):.3f}")
    throughput_ratio = med("gateway", connections, "rate") / med("direct", connections, "rate")
    added_p50 = med("gateway", 1, "p50_ms") - med("direct", 1, "p50_ms")
    verdict = "met" if throughput_ratio >= 0.70 and added_p50 <= 2.0 else "NOT met"
    print(f"target (>= 0.70 of direct req/s at -c{connections}, <= 2 ms added p50 at -c1): {verdict}")
    note = f"median of {rounds} x {duration} s" + (f"; {errors} non-2xx or socket errors" if errors else "")
    harness.record(f"gateway req/s (-c{connections})", med("gateway", connections, "rate"), "req/s", better="higher",
                   baseline="direct", baseline_value=med("direct", connections, "rate"), note=note)
    harness.record(f"gateway / direct req/s (-c{connections})", throughput_ratio, "ratio", target=0.70, better="higher",
                   note=note)
    harness.record("gateway p50 (-c1)", med("gateway", 1, "p50_ms"), "ms", baseline="direct",
                   baseline_value=med("direct", 1, "p50_ms"), note=note)
    harness.record("added p50 (-c1)", added_p50, "ms", target=2.0, note=note)
    harness.record("gateway CPU per request", statistics.median(cpu["gateway"]), "ms", baseline="discovery direct",
                   baseline_value=statistics.median(cpu["discovery direct"]), note=f"{note}; at -c{connections}")


BENCH_PLANS = '{"standard": {"rate": 50, "burst": 100}, "bench": {"rate": 1000000, "burst": 1000000}}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help=f"seconds per wrk run (at most {MAX_DURATION})")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections of the throughput runs")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved direct/gateway pairs")
    parser.add_argument("--port-base", type=int, default=29100)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if not 1 <= args.duration <= MAX_DURATION:
        raise SystemExit(f"--duration must be 1..{MAX_DURATION}: the direct side's identity token lives 60 s")
    settings = bench_settings("bench-gateway", args.port_base)
    platform = Platform(settings, say=say)
    try:
        platform.start_infrastructure()
        # The bench tenant's plan allows far more than wrk can send: the per-key limiter still
        # runs on every request (leases from the shared bucket), it just never says no.
        platform.start_services({"GATEWAY_RATE_LIMITS": BENCH_PLANS})
        tenant = asyncio.run(new_tenant(gateway_database_url(settings), "bench", plan="bench"))
        seed(settings.url("gateway"), tenant.key)
        identity = Identity(
            tenant_id=tenant.tenant_id, subject=f"key:{tenant.key_id}", scopes=frozenset(tenant.scopes),
            key_id=str(tenant.key_id),
        )
        signer = IdentitySigner(installation_keys(settings.state_dir).identity_private_pem)
        sides = Sides(settings.url("gateway"), settings.url("discovery"), tenant.key, signer, identity)
        processes = {name: procs.running(name, settings.run_dir) for name in ("discovery", "gateway")}
        if not all(processes.values()):
            raise SystemExit("discovery or the gateway is not running")
        measure(sides, args.duration, args.connections, args.rounds, processes)
    finally:
        platform.down()


if __name__ == "__main__":
    main()
