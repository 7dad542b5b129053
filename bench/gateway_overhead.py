"""Gateway overhead: the same read measured directly against discovery and through the gateway,
in the same run, with wrk (1 thread, 16 connections), and the ratio gateway / direct.

Run on purpose, never from pytest: `.venv/bin/python bench/gateway_overhead.py [--duration 10]`.
Starts its own platform in .limelight/bench-gateway on 127.0.0.1 ports from --port-base (Kafka at
base+1092/+1093, as the test suite lays them out) and stops it on the way out; or, with
--gateway and --direct, measures an already running one (e.g. `limelight up`). Needs `wrk`.
Figures go to stdout, progress to stderr.

Throughput on a shared machine swings with everyone else's load, so the run also prints the CPU
time each process spent per request (from its own counters), which hardly does: the gateway's
CPU per proxied request is its overhead, whatever the machine is doing.
"""

import argparse
import re
import shutil
import statistics
import subprocess
import sys

import httpx
import psutil

from runtime import procs
from runtime.config import ROOT, RuntimeSettings
from runtime.platform import Platform

PATH = "/creators?limit=10"
SEED_CREATORS = 50


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def wrk(url: str, duration: int, connections: int) -> tuple[float, int, int]:
    """Requests per second, requests completed, and the count of non-2xx/3xx answers."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", url],
        capture_output=True, text=True, check=True, timeout=duration + 30,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rate, done, int(bad.group(1)) if bad else 0


def cpu_seconds(process: psutil.Process | None) -> float:
    if process is None:
        return 0.0
    times = process.cpu_times()
    return times.user + times.system


def seed(gateway: str) -> None:
    with httpx.Client(base_url=gateway, timeout=10) as client:
        for n in range(SEED_CREATORS):
            client.post("/v1/discovery/creators", json={"platform": "tiktok", "handle": f"bench_{n}"})


def measure(
    gateway: str, direct: str, duration: int, connections: int, rounds: int,
    processes: dict[str, psutil.Process | None],
) -> None:
    for url in (f"{direct}{PATH}", f"{gateway}/v1/discovery{PATH}"):
        status = httpx.get(url, timeout=10).status_code
        if status != 200:
            raise SystemExit(f"{url} answered {status}; nothing to measure")
    wrk(f"{direct}{PATH}", 2, connections)
    wrk(f"{gateway}/v1/discovery{PATH}", 2, connections)
    rates: dict[str, list[float]] = {"direct": [], "gateway": []}
    # CPU milliseconds per request of the discovery process (both sides) and of the gateway.
    cpu: dict[str, list[float]] = {"discovery": [], "gateway": []}
    errors = 0
    # Interleaved rounds: on a shared machine, load from elsewhere hits both sides alike.
    for n in range(rounds):
        for side, url in (("direct", f"{direct}{PATH}"), ("gateway", f"{gateway}/v1/discovery{PATH}")):
            before = {name: cpu_seconds(p) for name, p in processes.items()}
            rate, done, bad = wrk(url, duration, connections)
            spent = {name: cpu_seconds(p) - before[name] for name, p in processes.items()}
            errors += bad
            rates[side].append(rate)
            cpu["discovery"].append(1000 * spent["discovery"] / done)
            if side == "gateway":
                cpu["gateway"].append(1000 * spent["gateway"] / done)
            say(f"  round {n + 1}: {side:7} {rate:8.0f} req/s")
    direct_rate, gateway_rate = statistics.median(rates["direct"]), statistics.median(rates["gateway"])
    print(f"GET {PATH}  wrk -t1 -c{connections} -d{duration}s, median of {rounds} rounds")
    print(f"direct   {direct_rate:8.0f} req/s")
    print(f"gateway  {gateway_rate:8.0f} req/s")
    print(f"ratio    {gateway_rate / direct_rate:8.2f}  (gateway / direct)")
    print(f"non-2xx  {errors}")
    if all(processes.values()):
        print(f"cpu ms/request  discovery {statistics.median(cpu['discovery']):.2f}  "
              f"gateway {statistics.median(cpu['gateway']):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved direct/gateway pairs")
    parser.add_argument("--port-base", type=int, default=29100)
    parser.add_argument("--gateway", help="URL of a running gateway (skips starting a platform)")
    parser.add_argument("--direct", help="URL of the discovery service behind --gateway")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if args.gateway and args.direct:
        unknown = {"discovery": None, "gateway": None}
        measure(args.gateway.rstrip("/"), args.direct.rstrip("/"), args.duration, args.connections, args.rounds, unknown)
        return
    base = args.port_base
    settings = RuntimeSettings(
        state_dir=ROOT / ".limelight" / "bench-gateway",
        kafka_port=base + 1092, kafka_controller_port=base + 1093,
        gateway_port=base, discovery_port=base + 1, audit_port=base + 2, attribution_port=base + 3,
    )
    for folder in ("kafka", "postgres", "run", "logs"):
        shutil.rmtree(settings.state_dir / folder, ignore_errors=True)
    platform = Platform(settings, say=say)
    try:
        platform.start_infrastructure()
        platform.start_services()
        seed(settings.url("gateway"))
        processes = {name: procs.running(name, settings.run_dir) for name in ("discovery", "gateway")}
        measure(
            settings.url("gateway"), settings.url("discovery"), args.duration, args.connections, args.rounds, processes
        )
    finally:
        platform.down()


if __name__ == "__main__":
    main()
