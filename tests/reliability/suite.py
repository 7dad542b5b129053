"""The reliability suite: `./limelight reliability` (docs/guide/reliability.md).

On a platform of its own (.limelight/reliability, ports from --port-base, loopback only), under
a steady load of signed Shopify orders, clicks and searches through the gateway:

1. kill -9 in turn each service, the Kafka broker and PostgreSQL; the services come back through
   the supervisor, the broker and the database are started again after `--down` seconds;
2. afterwards: no acknowledged order lost, none counted twice, the ledger and the campaign report
   exact against amounts computed here, no acknowledged click lost, every consumer group caught
   up, and not one 500 from the gateway (a dependency down is a 503);
3. every webhook of a set of orders, updates, refunds and cancellations delivered three times in
   shuffled order to one workspace and once in order to another: identical ledgers;
4. poison: partner payloads attribution cannot read go to the dead-letter topic, are counted,
   fixed by hand and replayed with `limelight dlq replay --value-file`, then credited;
5. schemathesis over every gateway route with valid credentials, and the cross-tenant matrix.

One table at the end; the JSON beside it in .limelight/reliability-results/. Exit 1 when any
guarantee failed.
"""

import argparse
import asyncio
import json
import logging
import os
import platform as host
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from runtime import admin, procs, services  # noqa: E402
from runtime.config import ROOT, RuntimeSettings  # noqa: E402
from runtime.dlq import read_partition  # noqa: E402
from runtime.platform import Platform  # noqa: E402
from runtime.seed.check import _pages  # noqa: E402
from runtime.seed.load import Api, _ndjson, shopify_refund  # noqa: E402
from runtime.seed.world import Order  # noqa: E402
from shared.contracts.catalog import dlq_topic  # noqa: E402
from tests.reliability.faults import TARGETS, Faults  # noqa: E402
from tests.reliability.traffic import Load, Shop, Tally, deliver, order_payload  # noqa: E402

WEBHOOKS = "gateway.webhook.v1"
WEBHOOK_DLQ = dlq_topic(WEBHOOKS, "attribution")
CLICKS = "attribution.click.v1"
UNDECODABLE = b"\x00not an envelope "
RESULTS = ROOT / ".limelight" / "reliability-results"
CREATORS = 12
PERCENT = 10
# The load is one shop's synthetic traffic from one address: the gateway's limits and the fraud
# rules' velocity and leaked-code thresholds are raised out of its way (both are set as an
# operator or a brand would set them, through configuration and the API).
SUITE_ENV = {
    "GATEWAY_RATE_LIMITS": '{"standard": {"rate": 100000, "burst": 100000}}',
    "GATEWAY_ADDRESS_RATE_LIMIT": '{"rate": 100000, "burst": 100000}',
    "LOG_LEVEL": "INFO",
}
LOAD_THRESHOLDS = {"velocity_min_orders": 1_000_000, "leaked_min_orders": 1_000_000, "new_customer_excess": 1.0,
                   "unusual_country_share": 1.0}

console = Console(stderr=True)
# The broker's clients narrate every failed connection while it is down on purpose.
logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def say(message: str) -> None:
    console.print(message, highlight=False)


@dataclass
class Row:
    check: str
    faults: int = 0
    sent: int = 0
    acknowledged: int = 0
    lost: int | None = 0
    duplicated: int | None = 0
    errors_5xx: int = 0
    errors_500: int = 0
    recovery: float | None = None
    note: str = ""
    passed: bool = True


@dataclass
class Brand:
    name: str
    key: str
    tenant_id: str
    shop: Shop
    campaign_id: str = ""
    codes: list[tuple[str, str]] = field(default_factory=list)  # (code, creator id)
    slugs: list[str] = field(default_factory=list)


# -- the platform ------------------------------------------------------------------------------
def suite_settings(base: int, state: str) -> RuntimeSettings:
    if any(procs.port_in_use(port) for port in (base, base + 4, base + 1092)):
        raise SystemExit(f"ports from {base} are in use (another reliability run?); choose another --port-base")
    settings = RuntimeSettings(
        state_dir=ROOT / ".limelight" / state,
        kafka_port=base + 1092, kafka_controller_port=base + 1093,
        gateway_port=base, discovery_port=base + 1, audit_port=base + 2, attribution_port=base + 3,
        gateway_operator_port=base + 4,
    )
    for folder in ("kafka", "postgres", "run", "logs", "seed"):
        shutil.rmtree(settings.state_dir / folder, ignore_errors=True)
    return settings


# -- set-up through the public API ---------------------------------------------------------------
async def make_brand(operator: Api, gateway: str, name: str, creator_ids: list[str] | None, *, links: bool) -> tuple[Brand, list[str]]:
    made = await operator.json("POST", "/v1/tenants", json={"name": name, "plan": "enterprise"})
    api = Api(gateway, made["first_key"]["key"])
    try:
        if creator_ids is None:
            run = uuid.uuid4().hex[:8]
            lines = [{"accounts": [{"platform": "instagram", "handle": f"rel{run}{i}", "followers": 20_000 + 1000 * i}],
                      "display_name": f"Reliability creator {i}", "bio": f"{SEARCH_WORDS[i % len(SEARCH_WORDS)]} every week",
                      "niches": ["fitness"], "country": "US", "languages": ["en"]} for i in range(CREATORS)]
            answer = await api.json("POST", "/v1/discovery/creators/bulk", params={"ids": "true"}, content=_ndjson(lines),
                                    headers={"content-type": "application/x-ndjson"})
            if answer["failed"]:
                raise SystemExit(f"discovery refused the suite's creators: {answer['errors'][:3]}")
            creator_ids = [line["id"] for line in answer["lines"]]
        secret = "shpss_" + uuid.uuid4().hex
        domain = f"{re.sub('[^a-z]', '', name.lower())}-{uuid.uuid4().hex[:6]}.myshopify.com"
        source = await api.json("POST", "/v1/webhook-sources", json={
            "kind": "shopify", "name": f"{name} store", "shop_domain": domain, "secret": secret})
        brand = Brand(name, made["first_key"]["key"], made["id"], Shop(source["id"], secret, domain))
        await api.call("PUT", "/v1/attribution/fraud/settings", json=LOAD_THRESHOLDS)
        today = datetime.now(timezone.utc).date()
        campaign = await api.json("POST", "/v1/attribution/campaigns", json={
            "name": f"{name} campaign", "brand": name, "starts_on": (today - timedelta(days=30)).isoformat(),
            "ends_on": (today + timedelta(days=365)).isoformat(), "budget": 100_000_000, "currency": "USD"})
        brand.campaign_id = campaign["id"]
        await api.call("PATCH", f"/v1/attribution/campaigns/{brand.campaign_id}", json={"status": "active"})
        await api.call("POST", f"/v1/attribution/campaigns/{brand.campaign_id}/rules",
                       json={"percent": str(PERCENT), "holding_days": 30})
        for i, creator_id in enumerate(creator_ids):
            await api.call("POST", f"/v1/attribution/campaigns/{brand.campaign_id}/creators",
                           json={"creator_id": creator_id, "deal_type": "affiliate"})
            code = f"REL{i:02d}X"
            await api.call("POST", "/v1/attribution/codes", json={
                "campaign_id": brand.campaign_id, "creator_id": creator_id, "code": code})
            brand.codes.append((code, creator_id))
            if links:
                link = await api.json("POST", "/v1/attribution/links", json={
                    "campaign_id": brand.campaign_id, "creator_id": creator_id, "platform": "instagram",
                    "destination": "https://shop.example/products/featured"})
                brand.slugs.append(link["slug"])
        return brand, creator_ids
    finally:
        await api.close()


SEARCH_WORDS = ("vegan baking", "running shoes", "skincare routine", "travel on a budget", "home workouts")


# -- checks --------------------------------------------------------------------------------------
async def consumer_lag(bootstrap: str) -> dict[str, int]:
    """Per consumer group: records on its committed partitions it has not applied yet."""
    admin_client = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin_client.start()
    await reader.start()
    try:
        lag = {}
        for group, _ in await admin_client.list_consumer_groups():
            committed = await admin_client.list_consumer_group_offsets(group)
            if not committed:
                continue
            ends = await reader.end_offsets(list(committed))
            lag[group] = sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items())
        return lag
    finally:
        await reader.stop()
        await admin_client.close()


async def caught_up(bootstrap: str, timeout: float) -> tuple[bool, dict[str, int], float]:
    started = time.monotonic()
    lag: dict[str, int] = {}
    while time.monotonic() - started < timeout:
        try:
            lag = await consumer_lag(bootstrap)
        except Exception as exc:  # the broker may still be electing leaders after its restart
            say(f"  (lag not readable yet: {type(exc).__name__})")
            lag = {}
        if lag and not any(lag.values()):
            return True, lag, time.monotonic() - started
        await asyncio.sleep(2)
    return False, lag, time.monotonic() - started


async def recorded_clicks(bootstrap: str) -> Counter:
    """Click ids on attribution.click.v1, by distinct event (a redelivered event counts once)."""
    events: dict[str, str] = {}
    admin_client = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin_client.start()
    try:
        (described,) = await admin_client.describe_topics([CLICKS])
    finally:
        await admin_client.close()
    for partition in sorted(p["partition"] for p in described["partitions"]):
        for record in await read_partition(bootstrap, CLICKS, partition):
            event = json.loads(record.value)
            events[event["event_id"]] = event["payload"]["click_id"]
    return Counter(events.values())


async def ledger_of(gateway: str, brand: Brand) -> tuple[dict[str, dict], Counter, dict[str, list[dict]]]:
    """The brand's orders (partner id → how many times it is there) and ledger entries by order."""
    async with httpx.AsyncClient(base_url=gateway, timeout=30, headers={"Authorization": f"Bearer {brand.key}"}) as client:
        orders = await _pages(client, "/v1/attribution/orders", {"source": "shopify"})
        entries = await _pages(client, "/v1/attribution/ledger", {"campaign_id": brand.campaign_id})
    by_order: dict[str, list[dict]] = defaultdict(list)
    for entry in entries:
        by_order[entry["order_id"]].append(entry)
    return {o["partner_order_id"]: o for o in orders}, Counter(o["partner_order_id"] for o in orders), by_order


async def report_of(gateway: str, brand: Brand) -> dict:
    async with httpx.AsyncClient(base_url=gateway, timeout=30, headers={"Authorization": f"Bearer {brand.key}"}) as client:
        answer = await client.get(f"/v1/attribution/campaigns/{brand.campaign_id}/report")
        answer.raise_for_status()
        return answer.json()


def server_errors(tally: Tally) -> Counter:
    errors: Counter = Counter()
    for (_, status), n in tally.statuses.items():
        if status >= 500:
            errors[status] += n
    return errors


# -- the fault phases ----------------------------------------------------------------------------
async def fault_phases(faults: Faults, load: Load, targets: list[str], *, down: float, settle: float) -> dict[str, float]:
    recovery: dict[str, float] = {}
    for target in targets:
        load.phase = f"kill -9 {target}"
        say(f"[bold]kill -9 {target}[/bold]")
        killed_at = time.monotonic()
        await asyncio.to_thread(faults.kill, target)
        if target in ("kafka", "postgresql"):
            await asyncio.sleep(down)
            say(f"  starting {target} again after {down:g}s down")
            await asyncio.to_thread(faults.bring_back, target)
        else:
            # The supervisor notices the exit and starts the service again (after 1 s, then backing off).
            await asyncio.sleep(0.5)
        try:
            await asyncio.to_thread(faults.wait_all_ready, 240)
        except (TimeoutError, RuntimeError):
            not_ready = [svc for svc in services.START_ORDER if not services.healthy(faults.s, svc, probe="readyz")]
            say(f"  [red]not ready 240s after the kill: {', '.join(not_ready)}[/red]")
            recovery[load.phase] = float("inf")
            continue
        recovery[load.phase] = time.monotonic() - killed_at
        say(f"  every service ready {recovery[load.phase]:.1f}s after the kill")
        await asyncio.sleep(settle)  # traffic after the recovery counts in this phase too
    return recovery


# -- shuffled triple delivery ----------------------------------------------------------------------
def follow_up_set(brand: Brand, first: int, count: int) -> list[tuple[str, dict, str]]:
    """Orders with updates, partial refunds and cancellations: (topic, payload, delivery id), and
    each order's net commission as computed here. Placed now: after the campaign's rule was made
    (an order is paid under the rule in force when it was placed)."""
    placed = datetime.now(timezone.utc).replace(microsecond=0)
    deliveries, expected = [], {}
    for i in range(count):
        number = first + i
        code, _ = brand.codes[i % len(brand.codes)]
        order = Order(brand=0, campaign=0, number=number, creator="", by="code", email=f"triple-{number}@load.example",
                      quantity=2, unit_price=3000 + 10 * i, unit_discount=0, refunded_units=1 if i % 3 == 1 else 0,
                      cancelled=i % 5 == 4, updated=i % 2 == 0)
        at = placed + timedelta(seconds=i)
        expected[str(number)] = order.commission
        wid = lambda topic, n=number: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{brand.shop.domain}/{topic}/{n}"))  # noqa: E731
        deliveries.append(("orders/create", order_payload(order, brand.shop, code, at), wid("orders/create")))
        if order.updated:
            deliveries.append(("orders/updated", {**order_payload(order, brand.shop, code, at, updated=at + timedelta(minutes=5)),
                                                  "note": "gift wrap"}, wid("orders/updated")))
        if order.refunded_units:
            deliveries.append(("refunds/create", shopify_refund(order, "USD", at + timedelta(minutes=10)), wid("refunds/create")))
        if order.cancelled:
            cancel = at + timedelta(minutes=20)
            deliveries.append(("orders/cancelled", {**order_payload(order, brand.shop, code, at, updated=cancel, cancelled=cancel),
                                                    "financial_status": "voided", "cancel_reason": "customer"},
                               wid("orders/cancelled")))
    return deliveries, expected


async def send_all(gateway: str, shop: Shop, deliveries: list[tuple[str, dict, str]], *, concurrency: int) -> tuple[int, int, Counter]:
    """Deliver each (retrying until acknowledged, as a partner does); requests sent, acknowledged, statuses."""
    sent, acknowledged, statuses = 0, 0, Counter()
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=gateway, timeout=15) as client:
        async def one(topic, payload, webhook_id):
            nonlocal sent, acknowledged
            async with gate:
                for _ in range(30):
                    status = await deliver(client, shop, topic, payload, webhook_id)
                    sent += 1
                    statuses[status] += 1
                    if status is not None and 200 <= status < 300:
                        acknowledged += 1
                        return
                    await asyncio.sleep(1)

        await asyncio.gather(*(one(*d) for d in deliveries))
    return sent, acknowledged, statuses


def snapshot(orders: dict, entries: dict[str, list[dict]]) -> dict[str, tuple]:
    """What a workspace ended with, order by order: its state, basis and total, who earned what
    (commission entries), and what was clawed back in all. How the clawbacks are split is left
    out: a cancellation learnt before a refund it includes claws back the whole remainder at
    once, where learnt after it takes what the refund left — the same amount, in one entry or two
    (an append-only ledger records what it learnt, in the order it learnt it)."""
    return {
        order_id: (order["state"], order["basis_minor"], order["total_minor"],
                   tuple(sorted((e["amount"], e["creator_id"]) for e in entries.get(order_id, []) if e["kind"] == "commission")),
                   sum(e["amount"] for e in entries.get(order_id, []) if e["kind"] == "clawback"))
        for order_id, order in orders.items()
    }


def entry_shapes(entries: dict[str, list[dict]]) -> dict[str, tuple]:
    return {k: tuple(sorted((e["kind"], e["amount"]) for e in es)) for k, es in entries.items()}


# -- poison ----------------------------------------------------------------------------------------
def poison_set(brand: Brand, first: int, count: int) -> list[tuple[str, dict, str]]:
    """Orders whose line price uses a decimal comma ("31,50"), as a misconfigured shop might send."""
    placed = datetime.now(timezone.utc).replace(microsecond=0)
    deliveries = []
    for i in range(count):
        number = first + i
        code, _ = brand.codes[i % len(brand.codes)]
        order = Order(brand=0, campaign=0, number=number, creator="", by="code", email=f"poison-{number}@load.example",
                      quantity=1, unit_price=3150, unit_discount=0)
        payload = order_payload(order, brand.shop, code, placed + timedelta(seconds=i))
        payload["line_items"][0]["price"] = "31,50"
        deliveries.append(("orders/create", payload, str(uuid.uuid4())))
    return deliveries


def delivery_of(record) -> str | None:
    try:
        return json.loads(record.value)["payload"]["delivery_id"]
    except (ValueError, KeyError, TypeError):
        return None


async def parked_for(bootstrap: str, delivery_ids: set[str], undecodable: int, timeout: float) -> tuple[list, int]:
    """The dead letters of these deliveries, and how many undecodable records are parked beside them."""
    started = time.monotonic()
    found, garbage = [], 0
    while time.monotonic() - started < timeout:
        try:
            records = await read_partition(bootstrap, WEBHOOK_DLQ)
        except Exception:  # the topic is made with the first dead letter
            records = []
        found = [r for r in records if delivery_of(r) in delivery_ids]
        garbage = sum(1 for r in records if (r.value or b"").startswith(UNDECODABLE))
        if len({delivery_of(r) for r in found}) == len(delivery_ids) and garbage >= undecodable:
            break
        await asyncio.sleep(1)
    return found, garbage


def fix_and_replay(settings: RuntimeSettings, record) -> bool:
    """What an operator does: save the parked value, fix the price, replay it with the dlq command."""
    env = {**os.environ, "LIMELIGHT_KAFKA_PORT": str(settings.kafka_port)}
    raw = subprocess.run([sys.executable, "-m", "runtime.cli", "dlq", "show", WEBHOOK_DLQ, "--offset", str(record.offset), "--raw"],
                         cwd=ROOT, env=env, capture_output=True, check=True).stdout
    envelope = json.loads(raw)
    body = json.loads(envelope["payload"]["body"])
    for line in body["line_items"]:
        line["price"] = line["price"].replace(",", ".")
    envelope["payload"]["body"] = json.dumps(body)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fixed:
        json.dump(envelope, fixed)
    try:
        done = subprocess.run([sys.executable, "-m", "runtime.cli", "dlq", "replay", WEBHOOK_DLQ, "--offset", str(record.offset),
                               "--value-file", fixed.name], cwd=ROOT, env=env, capture_output=True, text=True)
    finally:
        os.unlink(fixed.name)
    return done.returncode == 0 and "1 replayed" in done.stdout


async def undecodable(bootstrap: str, count: int) -> None:
    """Records no consumer can read (a broken producer): they are parked and counted, not replayed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(count):
            await producer.send_and_wait(WEBHOOKS, UNDECODABLE + str(i).encode(), key=str(uuid.uuid4()).encode())
    finally:
        await producer.stop()


# -- schemathesis and the cross-tenant matrix ----------------------------------------------------------
def schemathesis(settings: RuntimeSettings, key: str, examples: int) -> Row:
    st = Path(sys.executable).with_name("st")
    command = [str(st), "--no-color", "--config-file", str(ROOT / "tests" / "fuzz" / "schemathesis.toml"),
               "run", f"{settings.url('gateway')}/openapi.json", "--checks", "all", "--max-examples", str(examples),
               "--seed", "20261127", "--workers", "1", "--request-timeout", "15",
               "--suppress-health-check", "filter_too_much"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(ROOT), "LIMELIGHT_FUZZ_API_KEY": key}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=2400)
    out = result.stdout + result.stderr
    (settings.logs_dir / "schemathesis.log").write_text(out)
    cases = re.search(r"Test cases:\s*(\d+)\s+generated", out)
    operations = re.search(r"Selected:\s*(\d+)", out)
    server_errors = len(re.findall(r"Server error", out))
    return Row("schemathesis, every gateway route, valid key", sent=int(cases.group(1)) if cases else 0,
               acknowledged=int(cases.group(1)) if cases and result.returncode == 0 else 0, lost=None, duplicated=None,
               errors_5xx=server_errors, note=f"{operations.group(1) if operations else '?'} operations × up to {examples} "
               f"examples; exit {result.returncode} (log: {settings.logs_dir / 'schemathesis.log'})",
               passed=result.returncode == 0)


def cross_tenant(base: int) -> Row:
    env = {**os.environ, "LIMELIGHT_TEST_PORT_BASE": str(base), "LIMELIGHT_TEST_STATE_DIR": str(ROOT / ".limelight" / "reliability-matrix")}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                             "tests/tenancy/test_cross_tenant_matrix.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=1800)
    passed = re.search(r"(\d+) passed", result.stdout)
    failed = re.search(r"(\d+) failed", result.stdout)
    tail = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-200:]
    return Row("cross-tenant matrix, every tenant-private route", sent=int(passed.group(1)) + int(failed.group(1) if failed else 0)
               if passed else 0, acknowledged=int(passed.group(1)) if passed else 0, lost=int(failed.group(1)) if failed else 0,
               duplicated=None, note=f"one sweep of every tenant-private route with a second workspace's key on the first's objects, and checks that no route escapes it: {tail}", passed=result.returncode == 0)


# -- the run -----------------------------------------------------------------------------------------
async def run(args) -> int:
    settings = suite_settings(args.port_base, args.state)
    plat = Platform(settings, say=lambda m: say(f"[dim]{m}[/dim]"))
    rows: list[Row] = []
    facts: list[str] = []
    started = time.monotonic()
    try:
        say(f"Reliability suite: platform in {settings.state_dir}, gateway {settings.url('gateway')}")
        await asyncio.to_thread(plat.start_infrastructure)
        await asyncio.to_thread(plat.supervise, SUITE_ENV)
        gateway = settings.url("gateway")
        operator_key = (await admin.new_tenant(admin.gateway_database_url(settings), "reliability operator", operator=True)).key
        operator = Api(gateway, operator_key)
        try:
            main, creators = await make_brand(operator, gateway, "Load brand", None, links=True)
            once, _ = await make_brand(operator, gateway, "Once brand", creators, links=False)
            thrice, _ = await make_brand(operator, gateway, "Thrice brand", creators, links=False)
        finally:
            await operator.close()
        faults = Faults(plat)
        load = Load(gateway, main.key, main.shop, main.codes, main.slugs, first_order=1_000_000,
                    rates={"webhook": args.rate, "click": args.rate, "search": max(1.0, args.rate / 2)})

        # 1. Faults under load.
        say(f"[bold]steady load[/bold]: {args.rate:g} orders/s, {args.rate:g} clicks/s, {max(1.0, args.rate / 2):g} searches/s")
        load.start()
        await asyncio.sleep(args.settle)
        targets = [t for t in TARGETS if not args.only or t in args.only]
        recovery = await fault_phases(faults, load, targets, down=args.down, settle=args.settle)
        load.phase = "after the faults (partner retries)"
        await load.stop()
        await load.redeliver_unacknowledged(timeout=180)

        # 2. Poison on the partner path, and records nobody can read.
        say("[bold]poison[/bold]: unreadable partner payloads and undecodable records")
        poison = poison_set(main, 800_000, args.poison)
        p_sent, p_acked, _ = await send_all(gateway, main.shop, poison, concurrency=4)
        await undecodable(settings.kafka_bootstrap, 2)
        parked, garbage = await parked_for(settings.kafka_bootstrap, {d for _, _, d in poison}, 2, timeout=120)
        replayed = sum(await asyncio.gather(*(asyncio.to_thread(fix_and_replay, settings, r) for r in parked)))

        # 3. Every webhook three times, shuffled, against once and in order.
        say("[bold]triple delivery[/bold]: every webhook three times in shuffled order")
        deliveries, expected_net = follow_up_set(once, 900_000, args.orders)
        triple_deliveries, _ = follow_up_set(thrice, 900_000, args.orders)
        once_sent, once_acked, _ = await send_all(gateway, once.shop, deliveries, concurrency=1)
        shuffled = triple_deliveries * 3
        random.Random(args.seed).shuffle(shuffled)
        t_sent, t_acked, t_statuses = await send_all(gateway, thrice.shop, shuffled, concurrency=8)

        # 4. Drain, then count.
        say("[bold]draining[/bold]: waiting for every consumer group to catch up")
        up_to_date, lag, drained_in = await caught_up(settings.kafka_bootstrap, timeout=600)
        await asyncio.sleep(3)  # the report's totals worker and the ledger settle on their intervals
        orders, counts, entries = await ledger_of(gateway, main)
        report = await report_of(gateway, main)
        clicks = await recorded_clicks(settings.kafka_bootstrap)

        # Load orders: lost and duplicated per phase; the ledger against amounts computed here.
        by_phase: dict[str, list[int]] = defaultdict(list)
        for number, phase in load.acknowledged_orders.items():
            by_phase[phase].append(number)
        clicks_by_phase: dict[str, list[str]] = defaultdict(list)
        for click_id, phase in load.acknowledged_clicks.items():
            clicks_by_phase[phase].append(click_id)
        present_load = {int(k) for k in counts if k.isdigit() and 1_000_000 <= int(k) < 2_000_000}
        expected_commission = 0
        wrong_amounts = 0
        for number in present_load:
            want = load.orders[number].commission if number in load.orders else None
            got = [e for e in entries.get(str(number), []) if e["kind"] == "commission"]
            if want is None or len(got) != 1 or got[0]["amount"] != want:
                wrong_amounts += 1
            expected_commission += want or 0
        expected_commission += 315 * len(poison)  # 10 % of each fixed 31.50
        ledger_total = sum(e["amount"] for es in entries.values() for e in es)
        money = next((m for m in report["money"] if m["currency"] == "USD"), {"orders": 0, "net_commission": 0})
        poison_credited = sum(1 for _, p, _ in poison if counts.get(str(p["id"])) == 1 and sum(
            e["amount"] for e in entries.get(str(p["id"]), [])) == 315)

        for phase, tally in load.tallies.items():
            acked = by_phase.get(phase, [])
            lost_orders = sum(1 for n in acked if counts.get(str(n), 0) == 0)
            dup_orders = sum(1 for n in acked if counts.get(str(n), 0) > 1 or len(
                [e for e in entries.get(str(n), []) if e["kind"] == "commission"]) > 1)
            phase_clicks = clicks_by_phase.get(phase, [])
            lost_clicks = sum(1 for c in phase_clicks if clicks[c] == 0)
            dup_clicks = sum(1 for c in phase_clicks if clicks[c] > 1)
            kinds = ", ".join(f"{k} {tally.acknowledged[k]}/{tally.sent[k]}" for k in ("webhook", "click", "search"))
            unanswered = sum(tally.unanswered.values())
            rows.append(Row(
                phase, faults=1 if phase.startswith("kill") else 0, sent=sum(tally.sent.values()),
                acknowledged=sum(tally.acknowledged.values()), lost=lost_orders + lost_clicks, duplicated=dup_orders + dup_clicks,
                errors_5xx=tally.count(500, 599), errors_500=tally.count(500, 500), recovery=recovery.get(phase),
                note=f"{kinds}" + (f"; {unanswered} unanswered (connection refused)" if unanswered else "")
                + (f"; 5xx: {dict(sorted(server_errors(tally).items()))}" if tally.count(500, 599) else ""),
                passed=lost_orders + lost_clicks + dup_orders + dup_clicks == 0 and tally.count(500, 500) == 0
                and recovery.get(phase, 0) != float("inf"),
            ))
        unacked = [n for n in load.orders if n not in load.acknowledged_orders]

        # Triple delivery: the same end state, order by order.
        once_orders, _, once_entries = await ledger_of(gateway, once)
        thrice_orders, thrice_counts, thrice_entries = await ledger_of(gateway, thrice)
        a, b = snapshot(once_orders, once_entries), snapshot(thrice_orders, thrice_entries)
        differing = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        once_shapes, thrice_shapes = entry_shapes(once_entries), entry_shapes(thrice_entries)
        split = sum(1 for k in set(once_shapes) | set(thrice_shapes) if once_shapes.get(k) != thrice_shapes.get(k))
        # Not merely the same: right. Each order's net commission against the amount computed here.
        net = {k: sum(e["amount"] for e in es) for k, es in thrice_entries.items()}
        wrong_net = sorted(k for k, want in expected_net.items() if net.get(k, 0) != want)
        rows.append(Row(
            "every webhook ×3, shuffled", sent=t_sent, acknowledged=t_acked,
            lost=len(set(a) - set(b)), duplicated=sum(1 for n in thrice_counts.values() if n > 1),
            errors_5xx=sum(n for s, n in t_statuses.items() if s and s >= 500), errors_500=t_statuses.get(500, 0),
            note=f"{len(triple_deliveries)} webhooks of {args.orders} orders; ledgers identical to one in-order delivery: "
                 f"{'yes' if not differing and a else 'NO: ' + ', '.join(differing[:5])}; net commission "
                 f"{sum(net.values())} against {sum(expected_net.values())} computed here"
                 + (f" (wrong: {', '.join(wrong_net[:5])})" if wrong_net else "")
                 + (f"; {split} orders' clawbacks split differently (refund and cancellation crossed)" if split else "")
                 + (f"; first difference, order {differing[0]}: once {a.get(differing[0])}, ×3 shuffled {b.get(differing[0])}"
                    if differing else ""),
            passed=not differing and bool(a) and not wrong_net and once_acked == len(deliveries)))

        dlq_now = Counter(delivery_of(r) for r in parked)
        rows.append(Row(
            "poison → dead letters → fixed, replayed", sent=p_sent, acknowledged=p_acked, lost=args.poison - poison_credited,
            duplicated=sum(1 for n in dlq_now.values() if n > 1), note=(
                f"{len(dlq_now)}/{args.poison} unreadable payloads dead-lettered on {WEBHOOK_DLQ}, {replayed} fixed and replayed "
                f"with `limelight dlq replay --value-file`, {poison_credited} credited; {garbage}/2 undecodable records parked"),
            passed=len(dlq_now) == args.poison and replayed == args.poison and poison_credited == args.poison and garbage == 2))

        money_ok = ledger_total == expected_commission == money["net_commission"] and wrong_amounts == 0
        facts += [
            f"orders acknowledged {len(load.acknowledged_orders)} of {len(load.orders)} sent"
            + (f" ({len(unacked)} never acknowledged after retries)" if unacked else ""),
            f"orders in attribution {len(present_load)} (acknowledged or not: a delivery whose answer was lost is still applied once)",
            f"ledger: {ledger_total} minor units; computed here {expected_commission}; campaign report {money['net_commission']}"
            f" — {'exact' if money_ok else 'NOT EXACT'} ({wrong_amounts} orders with a wrong or missing commission entry)",
            f"clicks acknowledged {len(load.acknowledged_clicks)}; on {CLICKS} {len(clicks)} distinct click ids",
            f"consumer groups caught up: {'yes' if up_to_date else 'NO'} in {drained_in:.0f}s "
            f"({', '.join(f'{g} {n}' for g, n in sorted(lag.items()))})",
        ]
        all_ok = money_ok and up_to_date and not unacked

        # 5. The API under the fuzzer, and the cross-tenant matrix (a platform of its own).
        if args.examples > 0:
            say(f"[bold]schemathesis[/bold]: every gateway route, {args.examples} examples each")
            rows.append(await asyncio.to_thread(schemathesis, settings, main.key, args.examples))
        if not args.skip_matrix:
            say("[bold]cross-tenant matrix[/bold] (pytest, a platform of its own)")
            rows.append(await asyncio.to_thread(cross_tenant, args.port_base + 500))
    finally:
        if args.keep:
            say(f"the platform is left running (--keep): stop it with LIMELIGHT_STATE_DIR={settings.state_dir} ./limelight down")
        else:
            await asyncio.to_thread(plat.down)

    elapsed = time.monotonic() - started
    table = Table(title=f"Reliability suite — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {elapsed / 60:.1f} min")
    for column in ("check", "faults", "requests", "acknowledged", "lost", "duplicated", "5xx", "500", "recovery s", "ok"):
        table.add_column(column, justify="left" if column == "check" else "right")
    for r in rows:
        table.add_row(r.check, str(r.faults), str(r.sent), str(r.acknowledged), "-" if r.lost is None else str(r.lost),
                      "-" if r.duplicated is None else str(r.duplicated), str(r.errors_5xx), str(r.errors_500),
                      "-" if r.recovery is None else f"{r.recovery:.1f}", "yes" if r.passed else "NO")
    out = Console(width=200) if not sys.stdout.isatty() else Console()
    out.print(table)
    for r in rows:
        out.print(f"  {r.check}: {r.note}", highlight=False)
    for fact in facts:
        out.print(f"  {fact}", highlight=False)
    ok = all_ok and all(r.passed for r in rows)
    out.print(f"\n{'ALL GUARANTEES HELD' if ok else 'SOME GUARANTEES FAILED'}", highlight=False)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result_file = args.out or RESULTS / f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    result_file.write_text(json.dumps({
        "machine": {"host": host.node(), "cpus": os.cpu_count(), "python": host.python_version(), "system": host.platform()},
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "elapsed_seconds": round(elapsed, 1), "passed": ok, "facts": facts,
        "rows": [r.__dict__ for r in rows]}, indent=2))
    out.print(f"written to {result_file}")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port-base", type=int, default=34000, help="gateway port; the others follow (default 34000)")
    parser.add_argument("--state", default="reliability", help="the platform's folder under .limelight/ (emptied first)")
    parser.add_argument("--rate", type=float, default=6.0, help="orders and clicks per second each (searches at half)")
    parser.add_argument("--down", type=float, default=8.0, help="seconds the broker and the database stay down")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds of load before the first fault and after each recovery")
    parser.add_argument("--orders", type=int, default=30, help="orders of the triple-delivery set")
    parser.add_argument("--poison", type=int, default=3, help="unreadable partner payloads")
    parser.add_argument("--examples", type=int, default=10, help="schemathesis examples per operation (0: skip)")
    parser.add_argument("--skip-matrix", action="store_true", help="leave out the cross-tenant matrix")
    parser.add_argument("--only", type=lambda s: s.split(","), default=None, help=f"faults to inject, of {','.join(TARGETS)}")
    parser.add_argument("--seed", type=int, default=1, help="the triple delivery's shuffle")
    parser.add_argument("--keep", action="store_true", help="leave the suite's platform running afterwards (to look into it)")
    parser.add_argument("--out", type=Path, default=None, help="the JSON's path")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
