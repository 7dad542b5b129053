"""The floor of the order path on this machine: the least any implementation of issue 9's
"signed webhook → stored order" must do, built as thinly as the stack allows, measured with the
same signed deliveries and load generator as bench/gateway_webhooks.py, beside a bare endpoint.

Run on purpose, never from pytest: `PYTHONPATH=. .venv/bin/python bench/orders_floor.py`.
Needs `wrk`. Starts Kafka and PostgreSQL only (no Limelight service) in .limelight/bench-floor on
ports from --port-base (29400), then, one side after the other:
- **bare**: a FastAPI endpoint (one uvicorn process, as the gateway is) that reads the body and
  answers 200 — what the HTTP side alone costs;
- **floor**: a FastAPI endpoint that checks the Shopify HMAC, puts the body on a Kafka topic
  with acks=all and answers 200 once the broker has it (what "accepted" must mean), and a
  consumer (its own process, as attribution's is) that reads the topic in batches of up to 500,
  parses each order (json) and stores id, currency, total and discount code with one
  `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` per batch, then commits its offsets.
  No tenant, no source lookup, no delivery-id claim, no crediting, no ledger, no outbox: every
  one of those only adds work.

- **limelight**: the platform's real path, started after the floor on the same Kafka and
  PostgreSQL: the gateway's `/webhooks/shopify/<source>` (verified, claimed, on
  `gateway.webhook.v1` with acks=all), attribution's consumer storing, crediting and settling
  each order (a tenant, a USD campaign with a 10 % rule, one creator's code `MAYA15` on every
  order, as bench/attribution_orders.py's worst case), after a warm-up and `ANALYZE`; its end
  point is the order's commission entry in the ledger.

Each side is driven by `wrk -t1 -c<connections>` for --duration seconds with distinct signed
deliveries (a Lua script, each sent once): the same load generator and the same bodies for all
three, so their ratios are the path's, not the sender's. Printed: the requests answered per
second (floor and limelight: accepted, on Kafka), the **sustained rate** from the first request
to the last order stored (polled every 20 ms; 200 ms for limelight's ledger), and the CPU per
order of each process from their own counters. Where the real path's cost goes, against the
floor's, is in bench/README.md.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import psutil

from runtime import procs
from runtime.admin import gateway_database_url, new_tenant
from runtime.config import ROOT
from runtime.platform import Platform

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness  # noqa: E402
from bench.gateway_webhooks import LUA, SECRET, write_deliveries  # noqa: E402
from bench.harness import PostgresCpu, bench_settings, cpu_seconds, postmaster_pid, record, say  # noqa: E402

TOPIC = "floor.orders"
# Distinct deliveries written per second of a run: more than either endpoint answers here (past
# the end of its file wrk repeats the last delivery, which the floor stores once).
MAX_RATE = 6000
TABLE = "attribution.floor_orders"
CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    order_id text PRIMARY KEY, currency text NOT NULL, total_minor bigint NOT NULL, code text,
    stored_at timestamptz NOT NULL DEFAULT clock_timestamp())
"""
INSERT = f"""
INSERT INTO {TABLE} (order_id, currency, total_minor, code)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])
ON CONFLICT (order_id) DO NOTHING
"""


def serve(port: int, kafka: str, bare: bool) -> None:
    """The endpoint: bare (read the body, 200) or floor (HMAC, acks=all on Kafka, 200)."""
    import uvicorn
    from aiokafka import AIOKafkaProducer
    from fastapi import FastAPI, HTTPException, Request

    producer: AIOKafkaProducer | None = None
    key = SECRET.encode()

    async def lifespan(app):
        nonlocal producer
        if not bare:
            producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", enable_idempotence=True, linger_ms=2,
                                        max_batch_size=512 * 1024)
            await producer.start()
        yield
        if producer is not None:
            await producer.stop()

    app = FastAPI(lifespan=lifespan)

    @app.post("/webhooks/floor")
    async def receive(request: Request) -> dict:
        body = await request.body()
        if bare:
            return {"status": "accepted"}
        signature = request.headers.get("x-shopify-hmac-sha256", "")
        expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(signature, expected):
            raise HTTPException(401, "bad signature")
        delivery = request.headers.get("x-shopify-webhook-id", "").encode()
        await producer.send_and_wait(TOPIC, body, key=delivery)
        return {"status": "accepted"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def stop(*processes: subprocess.Popen | None) -> None:
    """Each process stopped, killed if it has not ended 10 s after being asked."""
    for process in processes:
        if process is None:
            continue
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def floor_storage(platform: Platform, create: str, topic: str) -> str:
    """A floor's table (made in attribution's schema, as its role) and its topic (one partition),
    on the platform's started infrastructure; the asyncpg DSN of attribution's role."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    dsn = platform.service_env("attribution")["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)

    async def prepare() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(create)
        finally:
            await conn.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=platform.s.kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, 1, 1)])
        finally:
            await admin.close()

    asyncio.run(prepare())
    return dsn


def _minor(amount: str) -> int:
    return int(Decimal(amount) * 100)


async def consume_into(kafka: str, dsn: str, topic: str, group: str, insert: str, row_of) -> None:
    """A floor's consumer: batches of up to 500 messages, each stored with one `insert` of their
    rows (`row_of(message value)`, as column arrays), offsets committed after it."""
    from aiokafka import AIOKafkaConsumer

    conn = await asyncpg.connect(dsn)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_poll_records=500)
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=100, max_records=500)
            rows = [row_of(json.loads(message.value)) for records in batch.values() for message in records]
            if rows:
                await conn.execute(insert, *map(list, zip(*rows)))
                await consumer.commit()
    finally:
        await consumer.stop()
        await conn.close()


def _order_row(order: dict) -> tuple:
    codes = order.get("discount_codes") or [{}]
    return str(order["id"]), order["currency"], _minor(order["total_price"]), codes[0].get("code")


async def consume(kafka: str, dsn: str) -> None:
    """The consumer: batches of up to 500, one INSERT each, offsets committed after it."""
    await consume_into(kafka, dsn, TOPIC, "floor", INSERT, _order_row)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def _stored_until(dsn: str, count: int, timeout: float) -> tuple[int, float]:
    """Rows stored, and when the last of `count` was (this clock), polling every 20 ms."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.time() + timeout
        while True:
            stored = await conn.fetchval(f"SELECT count(*) FROM {TABLE}")
            if stored >= count or time.time() > deadline:
                return stored, time.time()
            await asyncio.sleep(0.02)
    finally:
        await conn.close()


def _java(settings) -> psutil.Process | None:
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or ())
        if "kafka.Kafka" in cmdline and str(settings.state_dir) in cmdline:
            return process
    return None


def postgres_cpu(settings) -> PostgresCpu:
    """PostgreSQL's CPU from now on, for the platform of `settings`."""
    return PostgresCpu(postmaster_pid(settings.state_dir / "postgres"))


def side(name: str, args, settings, dsn: str, folder: Path, first_order: int) -> dict:
    port = args.port_base + (10 if name == "bare" else 11)
    endpoint = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--kafka", settings.kafka_bootstrap,
                                 *(["--bare"] if name == "bare" else [])], cwd=ROOT)
    consumer = None
    try:
        procs.wait_until(lambda: _answers(f"http://127.0.0.1:{port}/docs"), timeout=30, what=f"{name} endpoint")
        if name != "bare":
            consumer = subprocess.Popen([sys.executable, __file__, "--consume", dsn, "--kafka", settings.kafka_bootstrap],
                                        cwd=ROOT)
        deliveries = folder / f"{name}.tsv"
        write_deliveries(deliveries, MAX_RATE * args.duration, first_order)
        script = folder / "deliveries.lua"
        script.write_text(LUA)
        time.sleep(2)  # the consumer joined its group
        measured = [psutil.Process(endpoint.pid), *([psutil.Process(consumer.pid), _java(settings)] if consumer else [])]
        before = [cpu_seconds(p) for p in measured]
        postgres = postgres_cpu(settings)
        started = time.time()
        argv = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", str(script),
                f"http://127.0.0.1:{port}", "--", str(deliveries), "/webhooks/floor", "orders/create"]
        run = harness.wrk(argv, timeout=args.duration + 60)
        result = {"rate": run.rate, "done": run.done, "bad": run.bad, "p50": run.p50_ms, "p99": run.p99_ms}
        if consumer is not None:
            expected = _sent(run, MAX_RATE * args.duration)
            if expected < run.done - run.bad:
                say(f"{name}: wrk ran past the end of its {expected:,} deliveries; the rate stored is understated")
            stored, last = asyncio.run(_stored_until(dsn, expected, 120))
            result |= {"stored": stored, "expected": expected, "sustained": stored / (last - started)}
        spent = [cpu_seconds(p) - b for p, b in zip(measured, before)]
        done = max(result.get("stored", run.done), 1)
        result["cpu"] = {"endpoint": spent[0] / done * 1000}
        if consumer is not None:
            result["cpu"] |= {"consumer": spent[1] / done * 1000, "postgres": postgres.spent() / done * 1000,
                              "kafka": spent[2] / done * 1000}
        return result
    finally:
        stop(consumer, endpoint)


OPEN_LIMIT = '{"rate": 1000000, "burst": 1000000}'
BENCH_PLANS = '{"standard": {"rate": 50, "burst": 100}, "bench": {"rate": 1000000, "burst": 1000000}}'
LEDGER = "SELECT count(*) FROM attribution.ledger_entries WHERE kind = 'commission' AND order_id >= $1 AND order_id < $2"


async def _limelight_setup(settings) -> str:
    """A tenant, its Shopify source (the floor's secret), a USD campaign with a 10 % rule and the
    code every delivery uses; the webhook path."""
    tenant = await new_tenant(gateway_database_url(settings), "bench", plan="bench")
    auth = {"Authorization": f"Bearer {tenant.key}"}
    async with httpx.AsyncClient(base_url=settings.url("gateway"), timeout=30, headers=auth) as client:
        source = await client.post("/v1/webhook-sources", json={
            "kind": "shopify", "name": "bench", "shop_domain": "bench-shop.myshopify.com", "secret": SECRET})
        source.raise_for_status()
        campaign = await client.post("/v1/attribution/campaigns", json={
            "name": "bench", "brand": "Bench", "starts_on": "2026-01-01", "ends_on": "2030-12-31", "budget": 10**12,
            "currency": "USD"})
        campaign.raise_for_status()
        campaign_id, creator_id = campaign.json()["id"], str(uuid.uuid4())
        for path, body in ((f"/v1/attribution/campaigns/{campaign_id}/rules", {"percent": "10"}),
                           (f"/v1/attribution/campaigns/{campaign_id}/creators", {"creator_id": creator_id, "deal_type": "affiliate"}),
                           ("/v1/attribution/codes", {"campaign_id": campaign_id, "creator_id": creator_id, "code": "MAYA15"})):
            (await client.post(path, json=body)).raise_for_status()
    return f"/webhooks/shopify/{source.json()['id']}"


def _sent(run, written: int) -> int:
    """The distinct deliveries a wrk run certainly delivered: those it counted answered, at most
    the file's, less one — wrk builds its first request before the run, which takes the file's
    first line, and never sends it. (Requests still in flight when wrk stopped may be delivered
    too: a side may store a few more than this.)"""
    return min(run.done - run.bad, written - 1)


async def _in_ledger_until(dsn: str, first: int, count: int, timeout: float, interval: float,
                           span: int | None = None) -> tuple[int, float]:
    """Commission entries of orders first .. first+span-1 (span: count), polled until `count` are
    there; how many, and when the last was seen (this clock)."""
    span = span or count + 1
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.time() + timeout
        while True:
            # Order ids are decimal strings of one length here, so their text order is their number order.
            seen = await conn.fetchval(LEDGER, str(first), str(first + span))
            if seen >= count or time.time() > deadline:
                return seen, time.time()
            await asyncio.sleep(interval)
    finally:
        await conn.close()


def limelight(args, settings, platform, dsn: str, folder: Path, first_order: int) -> dict:
    platform.start_services({"GATEWAY_RATE_LIMITS": BENCH_PLANS, "GATEWAY_ADDRESS_RATE_LIMIT": OPEN_LIMIT,
                             "GATEWAY_WEBHOOK_ADDRESS_RATE_LIMIT": OPEN_LIMIT, "GATEWAY_WEBHOOK_SOURCE_RATE_LIMIT": OPEN_LIMIT})
    path = asyncio.run(_limelight_setup(settings))
    say(f"attribution's data-centre ranges built after {harness.wait_logged(settings, 'attribution', 'data-centre ranges loaded'):.1f} s more")
    script = folder / "deliveries.lua"
    script.write_text(LUA)
    gateway = settings.url("gateway")

    def drive(deliveries: Path, seconds: int):
        return harness.wrk(["wrk", "-t1", f"-c{args.connections}", f"-d{seconds}s", "--latency", "-s", str(script),
                            gateway, "--", str(deliveries), path, "orders/create"], timeout=seconds + 60)

    # Warm-up: 2 s of deliveries, all of them credited, then statistics (the tables started empty).
    warm = folder / "warm.tsv"
    write_deliveries(warm, 1000, first_order)
    ran = drive(warm, 2)
    warmed, _ = asyncio.run(_in_ledger_until(dsn, first_order, _sent(ran, 1000), args.timeout, 0.2))
    if warmed < _sent(ran, 1000):
        raise SystemExit(f"limelight: only {warmed} of {_sent(ran, 1000)} warm-up orders reached the ledger")

    async def analyse():
        conn = await asyncpg.connect(dsn)
        await conn.execute("ANALYZE")
        await conn.close()

    asyncio.run(analyse())
    first = first_order + 1000
    written = 1000 * args.duration
    deliveries = folder / "limelight.tsv"
    write_deliveries(deliveries, written, first)
    measured = [procs.running("gateway", settings.run_dir), procs.running("attribution", settings.run_dir),
                _java(settings)]
    before = [cpu_seconds(p) for p in measured]
    postgres = postgres_cpu(settings)
    started = time.time()
    run = drive(deliveries, args.duration)
    expected = _sent(run, written)
    if run.done - run.bad > written:
        say(f"limelight: wrk ran past the end of its {written:,} deliveries; the rate stored is understated")
    stored, last = asyncio.run(_in_ledger_until(dsn, first, expected, args.timeout, 0.2, span=written))
    spent = [cpu_seconds(p) - b for p, b in zip(measured, before)]
    postgres_spent = postgres.spent()
    done = max(stored, 1)
    return {"rate": run.rate, "done": run.done, "bad": run.bad, "p50": run.p50_ms, "p99": run.p99_ms, "stored": stored,
            "expected": expected, "sustained": stored / (last - started),
            "cpu": {"gateway": spent[0] / done * 1000, "attribution": spent[1] / done * 1000,
                    "postgres": postgres_spent / done * 1000, "kafka": spent[2] / done * 1000}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port-base", type=int, default=29400)
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the last order of a side")
    parser.add_argument("--floor-only", action="store_true", help="skip the platform's real path")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--consume", help=argparse.SUPPRESS)
    parser.add_argument("--kafka", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.kafka, args.bare)
        return
    if args.consume:
        asyncio.run(consume(args.kafka, args.consume))
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    settings = bench_settings("bench-floor", args.port_base)
    platform = Platform(settings, say=say)
    try:
        platform.start_infrastructure()
        dsn = floor_storage(platform, CREATE, TOPIC)
        with tempfile.TemporaryDirectory(prefix="bench-floor-") as folder:
            bare = side("bare", args, settings, dsn, Path(folder), 8_000_000_000_000)
            say(f"bare: {bare['rate']:,.0f}/s")
            floor = side("floor", args, settings, dsn, Path(folder), 9_000_000_000_000)
            say(f"floor: accepted {floor['rate']:,.0f}/s, stored {floor['sustained']:,.0f}/s")
            real = None
            if not args.floor_only:
                real = limelight(args, settings, platform, dsn, Path(folder), 7_000_000_000_000)
                say(f"limelight: accepted {real['rate']:,.0f}/s, in the ledger {real['sustained']:,.0f}/s")
    finally:
        platform.down()
    print(f"the floor of the order path: signed Shopify orders/create, wrk -t1 -c{args.connections} "
          f"-d{args.duration}s, {psutil.cpu_count()} cores, load average {psutil.getloadavg()[0]:.1f}")
    print(f"  bare endpoint (read body, 200)            {bare['rate']:8,.0f} req/s  p50 {bare['p50']:7.2f} ms  "
          f"p99 {bare['p99']:7.2f} ms  endpoint CPU {bare['cpu']['endpoint']:.3f} ms/req")
    print(f"  floor, accepted (HMAC, acks=all, 200)     {floor['rate']:8,.0f} req/s  p50 {floor['p50']:7.2f} ms  "
          f"p99 {floor['p99']:7.2f} ms  ({floor['rate'] / bare['rate']:.2f} of bare)")
    print(f"  floor, sustained to a stored row          {floor['sustained']:8,.0f} orders/s  "
          f"({floor['stored']:,} stored of {floor['expected']:,} accepted; target of the real path: 1,000)")
    cpu = floor["cpu"]
    print(f"  floor CPU per order (ms): endpoint {cpu['endpoint']:.3f}, consumer {cpu['consumer']:.3f}, "
          f"PostgreSQL {cpu['postgres']:.3f}, Kafka {cpu['kafka']:.3f}; "
          f"all {sum(cpu.values()):.3f} (on {psutil.cpu_count()} cores, {1000 * psutil.cpu_count() / sum(cpu.values()):,.0f} orders/s if nothing else ran; wrk not counted)")
    if real is not None:
        print(f"  limelight, accepted (the gateway)         {real['rate']:8,.0f} req/s  p50 {real['p50']:7.2f} ms  "
              f"p99 {real['p99']:7.2f} ms  ({real['rate'] / floor['rate']:.2f} of the floor's)")
        print(f"  limelight, sustained to the ledger        {real['sustained']:8,.0f} orders/s  "
              f"({real['stored']:,} of {real['expected']:,} accepted; {real['sustained'] / floor['sustained']:.2f} of the floor's; target 1,000)")
        cpu = real["cpu"]
        print(f"  limelight CPU per order (ms): gateway {cpu['gateway']:.3f}, attribution {cpu['attribution']:.3f}, "
              f"PostgreSQL {cpu['postgres']:.3f}, Kafka {cpu['kafka']:.3f}; all {sum(cpu.values()):.3f}")
        record("orders sustained, signed webhook → ledger (wrk)", real["sustained"], "orders/s", target=1000, better="higher",
               baseline="the floor of the path", baseline_value=floor["sustained"], note=f"wrk -c{args.connections} -d{args.duration}s")
    note = f"wrk -c{args.connections} -d{args.duration}s; HMAC, acks=all, one INSERT per batch of up to 500"
    record("order path floor, signed webhook → stored row", floor["sustained"], "orders/s", better="higher",
           baseline="bare endpoint (read body, 200)", baseline_value=bare["rate"], note=note)
    record("order path floor, CPU per order", sum(floor["cpu"].values()), "ms", note="endpoint, consumer, PostgreSQL, Kafka")


if __name__ == "__main__":
    main()
