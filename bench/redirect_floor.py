"""The floor of the click redirect on this machine: the thinnest 302 that records its click, built
as thinly as the stack allows, beside the bare FastAPI 302 of bench/attribution_redirect.py — what
issue 9's "redirect ≥ 60 % of a bare 302's throughput" allows any implementation, with the click
durable before the 302 and without.

Run on purpose, never from pytest: `PYTHONPATH=. .venv/bin/python bench/redirect_floor.py`.
Needs `wrk`. Starts Kafka and PostgreSQL only (no Limelight service) in .limelight/bench-rfloor
on ports from --port-base (29500), then one side after the other, each a FastAPI app under one
uvicorn process with the gateway's settings (no access log, no proxy headers) whose `/r/{slug}`
answers the same 302 (a 118-character click id in the Location, as the real one):
- **bare**: the 302, nothing else (bench/redirect_bare.py's);
- **sent**: a click (its id, slug, time, user agent, a keyed hash of the address) serialised
  and handed to the Kafka producer (acks=all), the 302 sent without waiting for the broker; a
  consumer process stores the topic's clicks with one `INSERT … SELECT FROM unnest(…)` per batch
  of up to 500 — the click is durable only once the broker has it, a moment after its 302;
- **durable**: the same, the 302 sent once the broker has acknowledged the click;
- **grouped**: no Kafka: the app itself writes the clicks to PostgreSQL, a batch at a time (one
  `INSERT … unnest` per batch of whatever arrived while the previous one was being written), and
  sends each 302 once its batch has committed — a group commit, durable before the 302.
No link lookup, flags, uniqueness, holdout, sealing or events: each of those only adds work.

Each side: `wrk -t1 -c16` for --duration seconds (throughput) and `-c1` (one request at a time:
latency), then the clicks stored are counted against the 302s answered once the consumer is done.
Printed beside the bare 302: requests/s and its share, p50/p99, and CPU per click of the app, the
consumer, PostgreSQL and Kafka.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import psutil

from runtime import procs
from runtime.config import ROOT
from runtime.platform import Platform

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402
from bench.harness import bench_settings, cpu_seconds, record, say  # noqa: E402
from bench.orders_floor import _answers, _java, consume_into, floor_storage, postgres_cpu, stop  # noqa: E402
from bench.redirect_bare import TARGET  # noqa: E402

TOPIC = "floor.clicks"
TABLE = "attribution.floor_clicks"
CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id uuid PRIMARY KEY, slug text NOT NULL, clicked_at timestamptz NOT NULL, user_agent text, visitor_hash text)
"""
INSERT = f"""
INSERT INTO {TABLE} (id, slug, clicked_at, user_agent, visitor_hash)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[])
ON CONFLICT (id) DO NOTHING
"""
BROWSER = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/17.0 Safari/605.1.15")
SIDES = ("bare", "sent", "durable", "grouped")


def serve(port: int, kafka: str, side: str, dsn: str | None = None) -> None:
    import uvicorn
    from aiokafka import AIOKafkaProducer
    from fastapi import FastAPI, Request
    from starlette.responses import RedirectResponse

    producer: AIOKafkaProducer | None = None
    key = b"k" * 32
    pending: list[tuple] = []
    waiting: list[asyncio.Future] = []
    wake = asyncio.Event()

    async def writer(conn) -> None:
        """Group commit: whatever arrived while the last batch was written, in one statement."""
        while True:
            await wake.wait()
            wake.clear()
            rows, futures = pending[:], waiting[:]
            pending.clear()
            waiting.clear()
            try:
                await conn.execute(INSERT, *map(list, zip(*rows)))
            except Exception as exc:  # noqa: BLE001 - each waiting request answers with it
                for future in futures:
                    if not future.done():  # a request whose client left was cancelled
                        future.set_exception(exc)
                continue
            for future in futures:
                if not future.done():
                    future.set_result(None)

    async def lifespan(app):
        nonlocal producer
        if side == "grouped":
            conn = await asyncpg.connect(dsn)
            task = asyncio.create_task(writer(conn))
            yield
            task.cancel()
            await conn.close()
            return
        if side != "bare":
            producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", enable_idempotence=True, linger_ms=2,
                                        max_batch_size=512 * 1024)
            await producer.start()
        yield
        if producer is not None:
            await producer.stop()

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.get("/r/{slug}")
    async def follow(slug: str, request: Request) -> RedirectResponse:
        if side == "grouped":
            address = request.client.host if request.client else ""
            done = asyncio.get_running_loop().create_future()
            pending.append((uuid.uuid4(), slug, datetime.now(UTC), request.headers.get("user-agent"),
                            hmac.new(key, address.encode(), hashlib.sha256).hexdigest()))
            waiting.append(done)
            wake.set()
            await done
        elif side != "bare":
            address = request.client.host if request.client else ""
            click = {"id": str(uuid.uuid4()), "slug": slug, "clicked_at": datetime.now(UTC).isoformat(),
                     "user_agent": request.headers.get("user-agent"),
                     "visitor_hash": hmac.new(key, address.encode(), hashlib.sha256).hexdigest()}
            sent = await producer.send(TOPIC, json.dumps(click).encode(), key=slug.encode())
            if side == "durable":
                await sent
        return RedirectResponse(TARGET, status_code=302, headers={"Cache-Control": "no-store"})

    @app.get("/up")
    async def up() -> dict:
        return {}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, proxy_headers=False)


def _click_row(c: dict) -> tuple:
    return uuid.UUID(c["id"]), c["slug"], datetime.fromisoformat(c["clicked_at"]), c["user_agent"], c["visitor_hash"]


async def consume(kafka: str, dsn: str) -> None:
    await consume_into(kafka, dsn, TOPIC, "rfloor", INSERT, _click_row)


async def _count(dsn: str, slug: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(f"SELECT count(*) FROM {TABLE} WHERE slug = $1", slug)
    finally:
        await conn.close()


def side(name: str, args, settings, dsn: str) -> dict:
    port = args.port_base + 10 + SIDES.index(name)
    app = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--side", name,
                            "--kafka", settings.kafka_bootstrap, "--dsn", dsn], cwd=ROOT)
    consumer = None
    try:
        procs.wait_until(lambda: _answers(f"http://127.0.0.1:{port}/up"), timeout=30, what=f"{name} app")
        if name in ("sent", "durable"):
            consumer = subprocess.Popen([sys.executable, __file__, "--consume", dsn, "--kafka", settings.kafka_bootstrap],
                                        cwd=ROOT)
            time.sleep(2)  # the consumer joined its group
        # Each side its own slug: a click of an earlier side still on its way is never counted here.
        measured = [psutil.Process(app.pid), *([psutil.Process(consumer.pid), _java(settings)] if consumer else [])]
        before = [cpu_seconds(p) for p in measured]
        postgres = postgres_cpu(settings)
        url = f"http://127.0.0.1:{port}/r/{name}"
        runs = {}
        for connections in (args.connections, 1):
            argv = ["wrk", "-t1", f"-c{connections}", f"-d{args.duration}s", "--latency", "-H", f"User-Agent: {BROWSER}", url]
            runs[connections] = harness.wrk(argv, timeout=args.duration + 60)
        bad = sum(r.bad for r in runs.values())
        if bad:
            raise SystemExit(f"{name}: {bad} answers were not 302s or failed; nothing to compare")
        answered = sum(r.done for r in runs.values())
        result = {"runs": runs, "answered": answered}
        if name != "bare":
            deadline = time.time() + 120
            while (stored := asyncio.run(_count(dsn, name))) < answered and time.time() < deadline:
                time.sleep(0.2)
            result["stored"] = stored
        spent = [cpu_seconds(p) - b for p, b in zip(measured, before)]
        postgres_spent = postgres.spent()
        # Over both runs (-c16 and -c1) and the wait for the last click, divided by every 302.
        result["cpu"] = {"app": spent[0] / answered * 1000}
        if name == "grouped":
            result["cpu"]["postgres"] = postgres_spent / answered * 1000
        if consumer is not None:
            result["cpu"] |= {"consumer": spent[1] / answered * 1000, "postgres": postgres_spent / answered * 1000,
                              "kafka": spent[2] / answered * 1000}
        return result
    finally:
        stop(consumer, app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port-base", type=int, default=29500)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--consume", help=argparse.SUPPRESS)
    parser.add_argument("--kafka", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.kafka, args.side, args.dsn)
        return
    if args.consume:
        asyncio.run(consume(args.kafka, args.consume))
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    settings = bench_settings("bench-rfloor", args.port_base)
    platform = Platform(settings, say=say)
    try:
        platform.start_infrastructure()
        dsn = floor_storage(platform, CREATE, TOPIC)
        results = {}
        for name in SIDES:
            results[name] = side(name, args, settings, dsn)
            say(f"{name}: {results[name]['runs'][args.connections].rate:,.0f} req/s")
    finally:
        platform.down()
    bare = results["bare"]["runs"][args.connections].rate
    print(f"the floor of the click redirect: GET /r/<slug> → 302, wrk -t1 -d{args.duration}s, {psutil.cpu_count()} cores, "
          f"load average {psutil.getloadavg()[0]:.1f}")
    for connections in (args.connections, 1):
        print(f"-c{connections}")
        for name in SIDES:
            run = results[name]["runs"][connections]
            share = run.rate / results["bare"]["runs"][connections].rate
            print(f"  {name:8} {run.rate:8,.0f} req/s  p50 {run.p50_ms:7.2f} ms  p99 {run.p99_ms:7.2f} ms  ({share:.2f} of bare)")
    for name in SIDES:
        r = results[name]
        cpu = ", ".join(f"{k} {v:.3f}" for k, v in r["cpu"].items())
        stored = f"; {r['stored']:,} clicks stored of {r['answered']:,} 302s" if "stored" in r else ""
        print(f"  {name:8} CPU per click (ms, both runs): {cpu}{stored}")
    for name in ("sent", "durable", "grouped"):
        rate = results[name]["runs"][args.connections].rate
        record(f"redirect floor, {name}", rate, "req/s", better="higher", baseline="bare FastAPI 302", baseline_value=bare,
               note=f"wrk -c{args.connections}; one INSERT per batch of clicks")


if __name__ == "__main__":
    main()
