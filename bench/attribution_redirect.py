"""The click redirect: `GET /r/{slug}` through the gateway (looked up, the click recorded, 302)
beside a bare FastAPI endpoint that only answers a 302, measured in the same run with wrk.

Run on purpose, never from pytest: `.venv/bin/python bench/attribution_redirect.py [--duration 10]`.
Starts its own platform in .limelight/bench-redirect on 127.0.0.1 ports from --port-base (as the
test suite lays them out) and the baseline app (bench/redirect_bare.py) on --port-base + 10,
under uvicorn with the gateway's own settings (one process, no access log, no proxy headers);
makes a tenant, a campaign, an enrolled creator and --links tracked links; stops everything on the
way out. Needs `wrk`. Figures go to stdout, progress to stderr.

Sides, each measured the same way, interleaved round by round so that load from elsewhere hits
them alike:
- `bare`: the baseline, `GET /r/x` on the bare app (302 to a fixed URL);
- `404`: `GET /r/<unknown slug>` through the gateway: the proxy hop and the slug's lookup, no
  click recorded; the redirect without recording, as near as the platform has one;
- `one link`: `GET /r/<slug>` through the gateway, every request on one link (a hot link);
- `many links`: the same over --links links, one after the other (a wrk Lua script);
- `direct`: the many-links requests sent to attribution itself, not through the gateway (with an
  `X-Forwarded-For`, as the gateway would send): what the gateway's hop costs.
Every click side sends a browser's User-Agent, so clicks are not flagged and take the unique-
visitor check (all from 127.0.0.1: one visitor; on one link every click after the first is a
repeat, which is the check's most contended case).

Two measurements per side: throughput, `wrk -t1 -c<connections>` saturated (its p50/p99 there are
mostly queueing, about connections / throughput), and latency, `wrk -t1 -c1`, one request at a
time (the time a request spends in the stack). The CPU time the gateway, attribution and
PostgreSQL each spent per request in the throughput runs is printed too: it moves much less than
throughput on a shared machine. After the run the clicks in attribution's database are counted
against the 302s wrk received, and the relay is given time to publish them all.
"""

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import psutil

from runtime import procs
from runtime.admin import gateway_database_url, new_tenant
from runtime.config import ROOT, RuntimeSettings
from runtime.platform import Platform

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402
from bench.harness import Run, bench_settings, cpu_seconds, say  # noqa: E402

BENCH_PLANS = '{"standard": {"rate": 50, "burst": 100}, "bench": {"rate": 1000000, "burst": 1000000}}'
# Every request here comes from 127.0.0.1; the gateway's per-address limit on /r/ would refuse
# nearly all of them.
OPEN_ADDRESS_LIMIT = '{"rate": 1000000, "burst": 1000000}'
BROWSER = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/17.0 Safari/605.1.15")
UNKNOWN_SLUG = "NoSuchSlug000000"
CLICK_SIDES = ("one link", "many links", "direct")
TARGETS = {"throughput ratio": 0.60, "p99 ms": 15.0}


def wrk(url: str, duration: int, connections: int, script: Path | None, expect: int) -> Run:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-H", f"User-Agent: {BROWSER}",
            # What the gateway sends attribution (it replaces any a client sent); ignored by the
            # gateway itself and by the bare app.
            "-H", "X-Forwarded-For: 127.0.0.1"]
    if script is not None:
        argv += ["-s", str(script)]
    # Every side is checked once with httpx before it is measured (wrk cannot tell a 302 from a
    # 200); the 404 side is meant to answer 404: only its socket errors count against it.
    return harness.wrk(argv + [url], timeout=duration + 30, count_statuses=expect != 404)


def slugs_script(folder: Path, slugs: list[str]) -> Path:
    """A wrk script that asks for the slugs in turn, one per request."""
    listed = ", ".join(f'"/r/{s}"' for s in slugs)
    script = folder / "slugs.lua"
    script.write_text(
        f"local paths = {{{listed}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        "  return wrk.format(\"GET\", paths[i])\n"
        "end\n"
    )
    return script


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    """The postmaster and its backends (the services' pooled connections stay open, so the set
    taken once before the runs covers them)."""
    pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    postmaster = psutil.Process(pid)
    return [postmaster, *postmaster.children(recursive=True)]


async def setup(gateway: str, key: str, count: int) -> list[dict]:
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=gateway, timeout=30, headers=auth) as client:
        campaign = await client.post("/v1/attribution/campaigns", json={
            "name": "bench", "brand": "Bench", "starts_on": "2026-01-01", "ends_on": "2030-12-31", "budget": 10**9,
            "currency": "USD"})
        campaign.raise_for_status()
        campaign_id, creator_id = campaign.json()["id"], str(uuid.uuid4())
        (await client.post(f"/v1/attribution/campaigns/{campaign_id}/creators",
                           json={"creator_id": creator_id, "deal_type": "affiliate"})).raise_for_status()
        links = []
        for n in range(count):
            made = await client.post("/v1/attribution/links", json={
                "campaign_id": campaign_id, "creator_id": creator_id, "destination": f"https://shop.example/products/{n}"})
            made.raise_for_status()
            links.append(made.json())
        return links


def check(url: str, status: int) -> None:
    response = httpx.get(url, headers={"User-Agent": BROWSER}, follow_redirects=False, timeout=10)
    if response.status_code != status:
        raise SystemExit(f"{url} answered {response.status_code}, not {status}; nothing to measure")


async def count_clicks(dsn: str, link_ids: list[str]) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM attribution.clicks WHERE link_id = ANY($1::uuid[])", [uuid.UUID(i) for i in link_ids])
    finally:
        await conn.close()


async def wait_published(dsn: str, timeout: float) -> tuple[int, float]:
    """Unsent ClickRecorded rows left in the outbox once the relay has had up to `timeout`, and
    how long it took."""
    conn = await asyncpg.connect(dsn)
    started = time.monotonic()
    try:
        while True:
            left = await conn.fetchval(
                "SELECT count(*) FROM attribution.outbox WHERE topic = 'attribution.click.v1' AND sent_at IS NULL")
            if left == 0 or time.monotonic() - started > timeout:
                return left, time.monotonic() - started
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def measure(args, sides: dict[str, tuple[str, Path | None, int]], processes: dict[str, list[psutil.Process]]) -> dict:
    warm: list[tuple[str, Run]] = []
    for name, (url, script, status) in sides.items():
        if script is None:
            check(url, status)
        warm.append((name, wrk(url, 2, args.connections, script, status)))
    runs: dict[tuple[str, int], list[Run]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    for n in range(args.rounds):
        for c in (args.connections, 1):
            for name, (url, script, status) in sides.items():
                before = {p: cpu_seconds(*ps) for p, ps in processes.items()}
                run = wrk(url, args.duration, c, script, status)
                runs.setdefault((name, c), []).append(run)
                if c == args.connections:
                    for p, ps in processes.items():
                        cpu.setdefault((name, p), []).append(1000 * (cpu_seconds(*ps) - before[p]) / max(run.done, 1))
                say(f"  round {n + 1}: {name:10} -c{c:<3} {run.rate:8.0f} req/s  p50 {run.p50_ms:6.2f} ms  "
                    f"p99 {run.p99_ms:6.2f} ms  ({run.done} answered, {run.bad} bad)")
    return {"runs": runs, "cpu": cpu, "warm": warm}


def report(args, result: dict, clicks: int, answered: int, runs_with_clicks: int, unsent: int, publish_s: float) -> None:
    runs, cpu = result["runs"], result["cpu"]
    sides = sorted({name for name, _ in runs}, key=["bare", "404", "one link", "many links", "direct"].index)

    def med(name: str, c: int, field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs[(name, c)])

    bare_rate = med("bare", args.connections, "rate")
    print(f"GET /r/{{slug}} through the gateway (link looked up, click recorded, 302) vs a bare FastAPI 302 "
          f"(bench/redirect_bare.py); wrk -t1 -d{args.duration}s --latency, median of {args.rounds} interleaved rounds, "
          f"{args.links} links on the many-links side")
    load = " ".join(f"{x:.2f}" for x in psutil.getloadavg())
    print(f"cores {psutil.cpu_count()}  load average at the end {load}")
    for c, label in ((args.connections, "throughput"), (1, "latency, one request at a time")):
        print(f"-c{c} ({label})")
        for name in sides:
            ratio = med(name, c, "rate") / med("bare", c, "rate")
            print(f"  {name:10} {med(name, c, 'rate'):8.0f} req/s  p50 {med(name, c, 'p50_ms'):6.2f} ms  "
                  f"p99 {med(name, c, 'p99_ms'):6.2f} ms  ({ratio:.2f} of bare)")
    print(f"cpu ms/request (-c{args.connections})   gateway  attribution  postgres      bare")
    for name in sides:
        figures = "  ".join(f"{statistics.median(cpu[(name, p)]):8.3f}" for p in ("gateway", "attribution", "postgres", "bare"))
        print(f"  {name:10}            {figures}")
    # The per-click recording cost: a click's 302 beside the 404 that only looks the slug up.
    print(f"recording a click, -c1: p50 +{med('many links', 1, 'p50_ms') - med('404', 1, 'p50_ms'):.2f} ms "
          f"(many links 302 - 404)")
    att = statistics.median(cpu[("many links", "attribution")]) - statistics.median(cpu[("404", "attribution")])
    pg = statistics.median(cpu[("many links", "postgres")]) - statistics.median(cpu[("404", "postgres")])
    print(f"recording a click, CPU: attribution +{att:.3f} ms, postgres +{pg:.3f} ms per click")
    errors = sum(r.bad for rs in runs.values() for r in rs)
    print(f"bad answers or socket errors  {errors}")
    print(f"clicks recorded {clicks:,} for {answered:,} 302s received (up to {args.connections} more per run may have "
          f"been in flight when wrk stopped: {runs_with_clicks} runs); ClickRecorded unsent after {publish_s:.1f} s: {unsent}")
    best = max(("one link", "many links"), key=lambda n: med(n, args.connections, "rate"))
    ratio = med("many links", args.connections, "rate") / bare_rate
    p99 = med("many links", 1, "p99_ms")
    verdict = "met" if ratio >= TARGETS["throughput ratio"] and p99 < TARGETS["p99 ms"] else "NOT met"
    print(f"target (many links: >= 0.60 of bare req/s at -c{args.connections}, p99 < 15 ms at -c1): {verdict} "
          f"(ratio {ratio:.2f}, p99 {p99:.2f} ms; best click side at -c{args.connections}: {best})")
    note = f"median of {args.rounds} rounds x {args.duration} s, {args.links} links"
    c = args.connections
    harness.record(f"click redirects/s, many links (-c{c})", med("many links", c, "rate"), "redirects/s", better="higher",
                   baseline="bare FastAPI 302", baseline_value=bare_rate, note=note)
    harness.record(f"click redirect, share of bare 302's req/s (-c{c})", ratio, "ratio", target=TARGETS["throughput ratio"],
                   better="higher", note=note)
    harness.record("click redirect p99, one at a time (-c1)", p99, "ms", target=TARGETS["p99 ms"],
                   baseline="bare FastAPI 302", baseline_value=med("bare", 1, "p99_ms"), note=note)
    harness.record("click redirect p50, one at a time (-c1)", med("many links", 1, "p50_ms"), "ms",
                   baseline="bare FastAPI 302", baseline_value=med("bare", 1, "p50_ms"), note=note)
    # CPU per request over the processes that serve it: steadier than req/s on a shared machine.
    click_cpu = sum(statistics.median(cpu[("many links", p)]) for p in ("gateway", "attribution", "postgres"))
    harness.record(f"click CPU, gateway + attribution + postgres (-c{c})", click_cpu, "ms/request",
                   baseline="bare FastAPI 302", baseline_value=statistics.median(cpu[("bare", "bare")]), note=note)


def start_bare(settings: RuntimeSettings, port: int) -> subprocess.Popen:
    # The gateway's own uvicorn settings (runtime/services.py): one process, no access log, no
    # proxy headers, the same graceful shutdown.
    argv = [
        sys.executable, "-m", "uvicorn", "redirect_bare:app", "--app-dir", str(ROOT / "bench"),
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--timeout-graceful-shutdown", "20",
        "--no-proxy-headers",
    ]
    log = open(settings.logs_dir / "redirect-bare.log", "ab")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/r/x", timeout=1)
            return process
        except httpx.HTTPError:
            if process.poll() is not None:
                raise SystemExit(f"the bare app exited ({process.returncode}); see {settings.logs_dir / 'redirect-bare.log'}")
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the bare app did not answer within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections of the throughput runs")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds over every side")
    parser.add_argument("--links", type=int, default=100, help="links of the many-links side")
    parser.add_argument("--port-base", type=int, default=29600)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if not 1 <= args.duration <= 60:
        raise SystemExit("--duration must be 1..60")
    base = args.port_base
    settings = bench_settings("bench-redirect", base)
    platform = Platform(settings, say=say)
    bare: subprocess.Popen | None = None
    try:
        platform.start_infrastructure()
        platform.start_services({"GATEWAY_RATE_LIMITS": BENCH_PLANS, "GATEWAY_ADDRESS_RATE_LIMIT": OPEN_ADDRESS_LIMIT})
        bare = start_bare(settings, base + 10)
        tenant = asyncio.run(new_tenant(gateway_database_url(settings), "bench", plan="bench"))
        links = asyncio.run(setup(settings.url("gateway"), tenant.key, args.links))
        dsn = platform.service_env("attribution")["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
        processes = {name: [procs.running(name, settings.run_dir)] for name in ("gateway", "attribution")}
        if not all(ps[0] for ps in processes.values()):
            raise SystemExit("attribution or the gateway is not running")
        processes["postgres"] = postgres_processes(platform.postgres.pgdata)
        processes["bare"] = [psutil.Process(bare.pid)]
        gateway = settings.url("gateway")
        with tempfile.TemporaryDirectory() as folder:
            script = slugs_script(Path(folder), [link["slug"] for link in links])
            sides = {
                "bare": (f"http://127.0.0.1:{base + 10}/r/x", None, 302),
                "404": (f"{gateway}/r/{UNKNOWN_SLUG}", None, 404),
                "one link": (f"{gateway}/r/{links[0]['slug']}", None, 302),
                "many links": (gateway, script, 302),
                "direct": (settings.url("attribution"), script, 302),
            }
            check(f"{gateway}/r/{links[1]['slug']}", 302)
            before = asyncio.run(count_clicks(dsn, [link["id"] for link in links]))
            result = measure(args, sides, processes)
        after = asyncio.run(count_clicks(dsn, [link["id"] for link in links]))
        unsent, waited = asyncio.run(wait_published(dsn, 120))
        click_runs = [r for (name, _), rs in result["runs"].items() if name in CLICK_SIDES for r in rs]
        click_runs += [r for name, r in result["warm"] if name in CLICK_SIDES]
        answered = sum(r.done for r in click_runs)
        report(args, result, after - before, answered, len(click_runs), unsent, waited)
    finally:
        if bare is not None:
            bare.terminate()
            bare.wait(30)
        platform.down()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
