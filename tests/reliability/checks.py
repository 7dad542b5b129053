"""What the suite counts after the load: consumer lag, recorded clicks, the ledger and the report, read through Kafka and the gateway."""

import asyncio
import json
import time
from collections import Counter, defaultdict

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from runtime.dlq import read_partition
from runtime.seed.check import _pages
from tests.reliability.traffic import Tally
from tests.reliability.common import CLICKS, Brand, say


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

