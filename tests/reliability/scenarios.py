"""The suite's scenarios: faults under load, shuffled triple delivery, poison fixed and replayed, schemathesis and the cross-tenant matrix."""

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from runtime import services
from runtime.config import ROOT, RuntimeSettings
from runtime.dlq import read_partition
from runtime.seed.model import Order
from runtime.seed.shopify import shopify_refund
from tests.reliability.faults import Faults
from tests.reliability.traffic import Load, Shop, deliver, order_payload
from tests.reliability.common import UNDECODABLE, WEBHOOK_DLQ, WEBHOOKS, Brand, Row, say


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


