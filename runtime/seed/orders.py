"""Loading step 6: the orders, their updates, refunds and cancellations, delivered as signed
Shopify webhooks once the clicks are old enough; a leaked code's orders one after the other."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

from rich.progress import Progress

from runtime.seed.api import CONCURRENCY, Api, gather, in_chunks
from runtime.seed.campaigns import Shop
from runtime.seed.plan import World
from runtime.seed.results import Loaded
from runtime.seed.shopify import shopify_order, shopify_refund, sign

# Between two orders of a leaked code (real ones come minutes apart).
LEAKED_GAP = 0.3


async def send_orders(world: World, gateway: str, shops: list[Shop], loaded: Loaded, progress: Progress) -> None:
    deliveries: list[tuple[Shop, str, dict]] = []
    leaked: dict[int, list[tuple[Shop, str, dict]]] = {}  # brand → its leaked code's orders, in order
    # A click-injection rule holds an order placed under 10 s after its click: real shoppers take
    # longer, so the orders wait until the clicks are at least 15 s old.
    wait = 15 - (time.time() - loaded.last_click)
    if wait > 0:
        task = progress.add_task("shoppers browsing before they buy", total=None)
        await asyncio.sleep(wait)
        progress.update(task, total=1, completed=1)
    now = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
    follow_ups: list[tuple[Shop, str, dict]] = []
    for n, order in enumerate(world.orders):
        brand = world.brands[order.brand]
        shop = shops[order.brand]
        # Placed one after the other from now on (after the commission rules were made: an order
        # is paid under the rule in force when it was placed).
        placed = now + timedelta(milliseconds=10 * n)
        code = brand.campaigns[order.campaign].codes[order.creator] if order.by == "code" else None
        click_id = loaded.click_ids[order.click] if order.by == "click" else None
        created = (shop, "orders/create", shopify_order(order, brand.currency, placed, click_id, code))
        if order.kind == "leaked_code":
            leaked.setdefault(order.brand, []).append(created)
        else:
            deliveries.append(created)
        if order.updated:
            follow_ups.append((shop, "orders/updated", {**shopify_order(order, brand.currency, placed, click_id, code,
                                                                        updated=placed + timedelta(minutes=5)),
                                                       "note": "gift wrap"}))
        if order.refunded_units:
            follow_ups.append((shop, "refunds/create", shopify_refund(order, brand.currency, placed + timedelta(hours=1))))
        if order.cancelled:
            at = placed + timedelta(hours=2)
            follow_ups.append((shop, "orders/cancelled", {**shopify_order(order, brand.currency, placed, click_id, code,
                                                                          updated=at, cancelled=at),
                                                         "financial_status": "voided", "cancel_reason": "customer"}))
    task = progress.add_task("orders (signed Shopify webhooks)",
                             total=len(deliveries) + sum(map(len, leaked.values())) + len(follow_ups))
    api = Api(gateway)

    async def deliver(shop: Shop, topic: str, payload: dict) -> None:
        body = json.dumps(payload).encode()
        await api.call("POST", f"/webhooks/shopify/{shop.source_id}", ok=(200, 202), content=body, headers={
            "content-type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop.domain,
            "X-Shopify-Webhook-Id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{shop.domain}/{topic}/{payload['id']}")),
            "X-Shopify-API-Version": "2025-10", "X-Shopify-Hmac-Sha256": sign(body, shop.secret)})
        loaded.add({"orders/create": "orders", "orders/updated": "order updates", "refunds/create": "refunds",
                    "orders/cancelled": "cancellations"}[topic])
        progress.advance(task)

    async def one_by_one(orders: list[tuple[Shop, str, dict]]) -> None:
        for order in orders:
            await deliver(*order)
            await asyncio.sleep(LEAKED_GAP)

    try:
        # Orders first, in the order they were placed. A leaked code's orders arrive one after the
        # other, as a coupon site's shoppers do, each after the one before it was taken in: the
        # fraud rules judge each with the code's orders before it, the same in every run.
        for chunk in in_chunks(deliveries, CONCURRENCY):
            await asyncio.gather(*(deliver(*d) for d in chunk))
        await asyncio.gather(*(one_by_one(orders) for orders in leaked.values()))
        await gather(CONCURRENCY, [deliver(*d) for d in follow_ups])
    finally:
        await api.close()
