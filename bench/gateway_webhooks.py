"""Partner-webhook ingress: signed Shopify deliveries accepted by the gateway (verified, claimed,
on Kafka with acks=all, answered 200) per second and their p50/p99, beside a bare FastAPI
endpoint that reads the same bodies and answers 200, in the same run.

Run on purpose, never from pytest: `.venv/bin/python bench/gateway_webhooks.py [--duration 8]`.
Starts its own platform in .limelight/bench-webhooks on 127.0.0.1 ports from --port-base, plus
the bare endpoint at --port-base + 10; once the gateway has read every service's OpenAPI document
it stops attribution, so that nothing consumes `gateway.webhook.v1` and the gateway has the
machine to itself (and OPENAPI_CACHE_SECONDS=3600 keeps it from rebuilding the merged document
during the run: a gateway whose upstreams are away rebuilds it every second, which would be
measured instead). Makes a tenant and a Shopify webhook source, and stops everything on the way
out. Needs `wrk`. Figures go to stdout, progress to stderr.

Every request is a real signed delivery of a ~1.5 kB orders/create body (the shape of
bench/attribution_orders.py's), written beforehand to a file that a wrk Lua script sends in
order, each once. Stages, each `wrk -t1 -c<connections>` (saturated: its p50/p99 are mostly
queueing) and `-c1` (one at a time: the time a delivery spends in the stack):
- **bare**: the bodies POSTed to a FastAPI endpoint that reads the body and answers 200;
- **verify only**: through the gateway with an unused topic (`products/update`): source lookup,
  secret, HMAC, answered 200 `ignored`, no claim and no publish;
- **duplicates**: deliveries already accepted, sent again: verify + the claim's transaction,
  answered 200 `duplicate`, nothing published;
- **accepted**: new deliveries: verify + claim + publish with acks=all + commit, answered 200.
The differences between stages show where a delivery's time goes. The gateway's webhook limits
per address and per source are opened for the bench (every request comes from 127.0.0.1 to one
source, past 500/s): the bench measures the path, not the policy. Any refusal is counted in the
`refused` column.
"""

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

from runtime import procs, services
from runtime.admin import gateway_database_url, new_tenant
from runtime.config import ROOT, RuntimeSettings
from runtime.platform import Platform

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402
from bench.harness import SHOPIFY_ORDER, Run, bench_settings, cpu_seconds, say, shopify_hmac  # noqa: E402

SHOP = "bench-shop.myshopify.com"
SECRET = "shpss_" + "w" * 32
OPEN_LIMIT = '{"rate": 1000000, "burst": 1000000}'
# New deliveries written per second of a stage: more than the gateway takes here. The bare and the
# verify-only stages may run past the end of their file (they store nothing, so a repeated
# delivery costs them what a new one does); the accepted stage may not.
MAX_RATE = 3000

# Sends the file's deliveries in order, one each; past the end it keeps sending the last one (the
# bench refuses a run that got there: its figures would mix in duplicates).
LUA = r"""
local deliveries = {}
local n = 0
local path, topic
init = function(args)
  path, topic = args[2], args[3]
  for line in io.lines(args[1]) do
    local id, sig, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    deliveries[#deliveries + 1] = {id, sig, body}
  end
end
request = function()
  n = n + 1
  local d = deliveries[math.min(n, #deliveries)]
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["X-Shopify-Hmac-Sha256"] = d[2],
    ["X-Shopify-Topic"] = topic,
    ["X-Shopify-Shop-Domain"] = "bench-shop.myshopify.com",
    ["X-Shopify-Webhook-Id"] = d[1],
    ["X-Shopify-API-Version"] = "2025-10",
  }, d[3])
end
"""


def write_deliveries(path: Path, count: int, first_order: int) -> None:
    now = datetime.now(UTC).isoformat()
    with path.open("w") as out:
        for n in range(count):
            order = dict(SHOPIFY_ORDER, id=first_order + n, name=f"#{first_order + n}", created_at=now, updated_at=now)
            body = json.dumps(order).encode()
            signature = shopify_hmac(SECRET, body)
            out.write(f"{uuid.uuid4()}\t{signature}\t{body.decode()}\n")


def wrk(base: str, path: str, topic: str, deliveries: Path, script: Path, duration: int, connections: int) -> Run:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), base,
            "--", str(deliveries), path, topic]
    return harness.wrk(argv, timeout=duration + 60)


def serve_bare(port: int) -> None:
    """The baseline: one uvicorn process, as the gateway is, whose endpoint reads the body."""
    import uvicorn
    from fastapi import FastAPI, Request

    app = FastAPI()

    @app.post("/webhooks/bare")
    async def bare(request: Request) -> dict:
        await request.body()
        return {"status": "accepted"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class Bench:
    def __init__(self, args, settings: RuntimeSettings, source_id: str, gateway: psutil.Process, folder: Path):
        self.args = args
        self.gateway_url = settings.url("gateway")
        self.bare_url = f"http://127.0.0.1:{args.port_base + 10}"
        self.source_path = f"/webhooks/shopify/{source_id}"
        self.gateway = gateway
        self.folder = folder
        self.script = folder / "deliveries.lua"
        self.script.write_text(LUA)
        self.files = 0
        self.next_order = 7_100_000_000_000 + int(time.time()) * 10_000

    def fresh(self, duration: int) -> Path:
        count = MAX_RATE * duration
        self.files += 1
        path = self.folder / f"deliveries-{self.files}.tsv"
        write_deliveries(path, count, self.next_order)
        self.next_order += count
        return path

    def stage(self, stage: str, deliveries: Path, duration: int, connections: int) -> Run:
        base, path, topic = {
            "bare": (self.bare_url, "/webhooks/bare", "orders/create"),
            "verify only": (self.gateway_url, self.source_path, "products/update"),
            "duplicates": (self.gateway_url, self.source_path, "orders/create"),
            "accepted": (self.gateway_url, self.source_path, "orders/create"),
        }[stage]
        before = cpu_seconds(self.gateway)
        run = wrk(base, path, topic, deliveries, self.script, duration, connections)
        if stage == "accepted" and run.done >= MAX_RATE * duration:
            raise SystemExit(f"{stage}: {run.done} requests, more than the {MAX_RATE * duration} deliveries written")
        if stage != "bare":
            run.gateway_cpu_ms = 1000 * (cpu_seconds(self.gateway) - before) / max(1, run.done)
        return run


STAGES = ("bare", "verify only", "accepted", "duplicates")


def measure(bench: Bench, duration: int, connections: int, rounds: int, stages: tuple[str, ...] = STAGES) -> None:
    for stage in ("bare", "verify only", "accepted"):
        warm = bench.stage(stage, bench.fresh(2), 2, connections)
        if warm.bad:
            raise SystemExit(f"warm-up of {stage}: {warm.bad} of {warm.done} requests refused; nothing to measure")
    runs: dict[tuple[str, int], list[Run]] = {}
    for n in range(rounds):
        for c in (connections, 1):
            accepted_file = None
            for stage in stages:
                if stage == "duplicates":
                    # The deliveries the accepted stage just sent: only its first run.done lines
                    # (the rest are new); past the end wrk repeats the last, a duplicate too.
                    deliveries = bench.folder / "duplicates.tsv"
                    lines = accepted_file.read_text().splitlines(keepends=True)[: runs[("accepted", c)][-1].done]
                    deliveries.write_text("".join(lines))
                    accepted_file.unlink()
                else:
                    deliveries = bench.fresh(duration)
                    if stage == "accepted":
                        accepted_file = deliveries
                run = bench.stage(stage, deliveries, duration, c)
                if stage != "accepted":
                    deliveries.unlink()
                runs.setdefault((stage, c), []).append(run)
                say(f"  round {n + 1}: {stage:12} -c{c:<3} {run.rate:8.0f} req/s  p50 {run.p50_ms:7.2f} ms  "
                    f"p99 {run.p99_ms:7.2f} ms  refused {run.bad}  gateway cpu {run.gateway_cpu_ms:.2f} ms/req")

    def med(stage: str, c: int, field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs[(stage, c)])

    print(f"signed Shopify orders/create deliveries (~1.5 kB) through the gateway vs a bare FastAPI endpoint; "
          f"wrk -t1 -d{duration}s --latency, median of {rounds} rounds")
    print(f"cores {psutil.cpu_count()}  load average at the end {' '.join(f'{x:.2f}' for x in psutil.getloadavg())}")
    for c, label in ((connections, "throughput"), (1, "one at a time")):
        print(f"-c{c} ({label})")
        print(f"  {'stage':14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'gw cpu ms/req':>14} {'refused':>8}")
        for stage in [s for s in ("bare", "verify only", "duplicates", "accepted") if s in stages]:
            refused = sum(r.bad for r in runs[(stage, c)])
            cpu = f"{med(stage, c, 'gateway_cpu_ms'):14.2f}" if stage != "bare" else f"{'-':>14}"
            print(f"  {stage:14} {med(stage, c, 'rate'):8.0f} {med(stage, c, 'p50_ms'):8.2f} "
                  f"{med(stage, c, 'p99_ms'):8.2f} {cpu} {refused:8}")
        if {"accepted", "bare"} <= set(stages):
            print(f"  accepted / bare: {med('accepted', c, 'rate') / med('bare', c, 'rate'):.2f}")
    refused = sum(r.bad for rs in runs.values() for r in rs)
    note = f"median of {rounds} x {duration} s" + (f"; {refused} refused" if refused else "")
    bare = "bare" in stages
    if "accepted" in stages:
        # Issue 9 asks >= 1,000 orders/s end to end (ADR 0038): the gateway's acceptance is its first part.
        harness.record(f"accepted deliveries/s (-c{connections})", med("accepted", connections, "rate"), "req/s",
                       target=1000.0, better="higher", baseline="bare FastAPI" if bare else None,
                       baseline_value=med("bare", connections, "rate") if bare else None, note=note)
        harness.record("accepted delivery p50 (-c1)", med("accepted", 1, "p50_ms"), "ms",
                       baseline="bare FastAPI" if bare else None, baseline_value=med("bare", 1, "p50_ms") if bare else None,
                       note=note)
        harness.record("gateway CPU per accepted delivery", med("accepted", connections, "gateway_cpu_ms"), "ms",
                       note=f"{note}; at -c{connections}")
    if "verify only" in stages:
        harness.record("gateway CPU per verified delivery (verify only)", med("verify only", connections, "gateway_cpu_ms"),
                       "ms", note=f"{note}; at -c{connections}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections of the throughput runs")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--port-base", type=int, default=29900)
    parser.add_argument("--gateway-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra gateway setting for this run (repeatable), e.g. DB_POOL_SIZE=10")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help="comma-separated subset of the stages, in order (duplicates needs accepted before it)")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    base = args.port_base
    settings = bench_settings("bench-webhooks", base)
    env = {
        "GATEWAY_WEBHOOK_ADDRESS_RATE_LIMIT": OPEN_LIMIT,
        "GATEWAY_WEBHOOK_SOURCE_RATE_LIMIT": OPEN_LIMIT,
        "OPENAPI_CACHE_SECONDS": "3600",
    }
    env |= dict(item.split("=", 1) for item in args.gateway_env)
    platform = Platform(settings, say=say)
    bare = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(base + 10)], cwd=ROOT)
    try:
        platform.start_infrastructure()
        platform.start_services(env)
        procs.wait_until(lambda: _merged(settings.url("gateway")), timeout=60, what="the merged OpenAPI document")
        services.stop(settings, "attribution")
        procs.wait_until(lambda: _answers(f"http://127.0.0.1:{base + 10}/docs"), timeout=30, what="bare endpoint")
        tenant = asyncio.run(new_tenant(gateway_database_url(settings), "bench"))
        made = httpx.post(f"{settings.url('gateway')}/v1/webhook-sources", timeout=10,
                          headers={"Authorization": f"Bearer {tenant.key}"},
                          json={"kind": "shopify", "name": "bench", "shop_domain": SHOP, "secret": SECRET})
        made.raise_for_status()
        gateway = procs.running("gateway", settings.run_dir)
        with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as folder:
            measure(Bench(args, settings, made.json()["id"], gateway, Path(folder)), args.duration, args.connections, args.rounds,
                    tuple(args.stages.split(",")))
    finally:
        bare.terminate()
        bare.wait(10)
        platform.down()


def _merged(gateway: str) -> bool:
    try:
        paths = httpx.get(f"{gateway}/openapi.json", timeout=5).json().get("paths", {})
    except (httpx.HTTPError, ValueError):
        return False
    return all(any(p.startswith(f"/v1/{name}/") for p in paths) for name in ("discovery", "audit", "attribution"))


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
