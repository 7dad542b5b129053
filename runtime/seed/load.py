"""`limelight seed`: load a `world.World` into a running platform through its public API only.

Every write goes through the gateway, as a frontend, a partner or a shopper would send it: the
brands' workspaces through `/v1/tenants` (with the operator workspace's key), creators as bulk
NDJSON, follower samples and comments through audit's bulk routes, campaigns, codes and links
through attribution, clicks through `GET /r/{slug}` from a visitor address of their own, and
orders, updates, refunds and cancellations as webhooks signed as Shopify signs them. The one step
that is not an API call is the operator workspace itself when no key is given: it is made as
`limelight admin create-tenant --operator` makes it, the installation's documented first step.

A seed is an ordinary client: it retries a 429 after its `Retry-After` and a 503 a few times, and
stops on anything else that is not a success, naming the call.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from runtime.seed.world import HOLDING_DAYS, PERCENT, SAMPLE_SIZE, Order, World

BULK_LINES = 2_000
FOLLOWER_LINES = 5_000 // SAMPLE_SIZE * SAMPLE_SIZE
COMMENT_LINES = 10_000
# What audit's bulk routes answer for a line whose creator or post discovery has not announced yet.
UNANNOUNCED = "discovery has not announced it"
CONCURRENCY = 16
# Between two orders of a leaked code (real ones come minutes apart).
LEAKED_GAP = 0.3
# Creators made and sent to audit per step: bounded memory whatever the world's size.
CREATOR_CHUNK = 5_000
# How long the loader waits while audit learns of no new creator or post from discovery's events.
ANNOUNCE_TIMEOUT = 180.0


class SeedError(RuntimeError):
    pass


@dataclass
class Loaded:
    """What the seed made: ids by the world's keys, and counts for the summary."""

    creator_ids: dict[str, str] = field(default_factory=dict)
    brand_keys: list[dict] = field(default_factory=list)  # {"name", "tenant_id", "key"}
    campaign_ids: list[list[str]] = field(default_factory=list)
    click_ids: dict[int, str] = field(default_factory=dict)
    slugs: dict[tuple[int, int, str], str] = field(default_factory=dict)  # (brand, campaign, creator key) → slug
    last_click: float = 0.0
    audits: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


class Api:
    def __init__(self, base: str, key: str | None = None, local_address: str | None = None):
        transport = httpx.AsyncHTTPTransport(local_address=local_address) if local_address else None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.AsyncClient(base_url=base, headers=headers, timeout=300, transport=transport)
        self.run = uuid.uuid4()  # the idempotency keys' namespace: one per client, so a new seed writes anew

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, *, ok=(200, 201), **kwargs) -> httpx.Response:
        if method == "POST" and "json" in kwargs:
            # A 502/503/504 may come after the write was done: the retry carries the same key, so
            # the API answers the stored result instead of writing twice (NDJSON bulk posts are
            # sent again on purpose, for their refused lines, and are themselves idempotent).
            body = json.dumps(kwargs["json"], sort_keys=True)
            kwargs["headers"] = {**kwargs.get("headers", {}),
                                 "Idempotency-Key": str(uuid.uuid5(self.run, f"{path}\n{body}"))}
        for attempt in range(8):
            answer = await self.client.request(method, path, **kwargs)
            if answer.status_code == 429:
                await asyncio.sleep(min(5.0, float(answer.headers.get("Retry-After", "1") or 1)))
                continue
            if answer.status_code in (502, 503, 504) and attempt < 7:
                await asyncio.sleep(0.5 * (attempt + 1))
                continue
            if answer.status_code not in ok:
                raise SeedError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
            return answer
        raise SeedError(f"{method} {path}: still refused after retries ({answer.status_code})")

    async def json(self, method: str, path: str, **kwargs) -> dict:
        return (await self.call(method, path, **kwargs)).json()


def _ndjson(lines: list[dict]) -> bytes:
    return ("\n".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) for line in lines) + "\n").encode()


def _chunks(items: list, size: int):
    for at in range(0, len(items), size):
        yield items[at:at + size]


async def _gather(limit: int, coroutines) -> list:
    gate = asyncio.Semaphore(limit)

    async def one(coroutine):
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


async def load(world: World, gateway: str, operator_key: str, *, console: Console | None = None,
               audits: bool = True) -> Loaded:
    console = console or Console(stderr=True)
    loaded = Loaded()
    operator = Api(gateway, operator_key)
    brand_apis: list[Api] = []
    progress = Progress(TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=False)
    try:
        with progress:
            await _tenants(world, operator, loaded, progress)
            brand_apis = [Api(gateway, brand["key"]) for brand in loaded.brand_keys]
            main = brand_apis[0]
            await _creators(world, main, loaded, progress)
            # Audit learns of the new creators and posts from discovery's events, which takes a
            # while for thousands: the money side (which needs only the ids) goes on meanwhile.
            audit_side = asyncio.ensure_future(_audit_inputs(world, main, loaded, progress))
            try:
                shops = await _campaigns(world, brand_apis, loaded, progress)
                await _clicks(world, gateway, loaded, progress)
                await _orders(world, gateway, shops, loaded, progress)
            finally:
                await audit_side
            if audits:
                await _audits(world, main, loaded, progress)
    finally:
        await operator.close()
        for api in brand_apis:
            await api.close()
    return loaded


async def _tenants(world: World, operator: Api, loaded: Loaded, progress: Progress) -> None:
    task = progress.add_task("workspaces and keys", total=len(world.brands))
    for brand in world.brands:
        made = await operator.json("POST", "/v1/tenants", json={"name": brand.name, "plan": "enterprise"})
        loaded.brand_keys.append({"name": brand.name, "tenant_id": made["id"], "key": made["first_key"]["key"]})
        loaded.add("workspaces")
        progress.advance(task)


async def _creators(world: World, api: Api, loaded: Loaded, progress: Progress) -> None:
    task = progress.add_task("creators (discovery, bulk NDJSON)", total=len(world.creators))
    for chunk in _chunks(world.creators, BULK_LINES):
        answer = await api.json("POST", "/v1/discovery/creators/bulk", params={"ids": "true"},
                                content=_ndjson([c.line for c in chunk]), headers={"content-type": "application/x-ndjson"})
        if answer["failed"]:
            raise SeedError(f"discovery refused {answer['failed']} creator lines: {answer['errors'][:3]}")
        for line in answer["lines"]:
            loaded.creator_ids[chunk[line["line"] - 1].key] = line["id"]
        loaded.add("creators", len(chunk))
        loaded.add("posts", sum(len(c.line["posts"]) for c in chunk))
        loaded.add("follower points", sum(len(c.line["follower_points"]) + 1 for c in chunk))
        progress.advance(task, len(chunk))


async def _until_known(api: Api, path: str, lines: list[dict], per_request: int, label: str, loaded: Loaded,
                       progress: Progress, task) -> None:
    """Post NDJSON lines to audit; the lines whose creator or post audit has not heard of from
    discovery yet are sent again a moment later (events take their time), any other error stops."""
    deadline = time.monotonic() + ANNOUNCE_TIMEOUT
    pending = lines
    while pending:
        retry: list[dict] = []
        before = len(pending)
        chunks = list(_chunks(pending, per_request))
        for n, chunk in enumerate(chunks):
            if _mostly_unknown(retry, n, per_request):
                # Audit is still reading discovery's events: the rest of this round would be
                # refused too, and parsing it would only slow audit's consumer down.
                retry += [line for later in chunks[n:] for line in later]
                break
            answer = await api.json("POST", path, content=_ndjson(chunk), headers={"content-type": "application/x-ndjson"})
            bad = [e for e in answer["errors"] if UNANNOUNCED not in e["reason"]]
            if bad:
                raise SeedError(f"{path} refused lines: {bad[:3]}")
            again = {e["line"] for e in answer["errors"]}
            if answer["failed"] > len(again):
                # The answer lists the first 1,000 errors only: send the whole request again
                # (what it stored is `unchanged` the second time).
                retry += chunk
                continue
            retry += [line for n, line in enumerate(chunk, start=1) if n in again]
            progress.advance(task, len(chunk) - len(again))
            loaded.add(label, len(chunk) - len(again))
        if len(retry) < before:
            # Audit is catching up (a big world takes it minutes): the wait is for progress.
            deadline = time.monotonic() + ANNOUNCE_TIMEOUT
        if retry and time.monotonic() > deadline:
            raise SeedError(f"audit learnt of no new creator or post in {ANNOUNCE_TIMEOUT:.0f} s; {len(retry)} lines are still refused")
        if retry:
            await asyncio.sleep(1.0)
        pending = retry


def _mostly_unknown(refused: list[dict], sent_chunks: int, per_request: int) -> bool:
    """Whether the chunks sent so far this round were nearly all refused as not yet announced."""
    return sent_chunks > 0 and len(refused) > 0.9 * sent_chunks * per_request


async def _audit_inputs(world: World, api: Api, loaded: Loaded, progress: Progress) -> None:
    await _samples(world, api, loaded, progress)
    await _comments(world, api, loaded, progress)


def _creator_chunks(world: World):
    """The creators a few thousand at a time: a big world is made (and sent) a part at a time."""
    for at in range(0, len(world.creators), CREATOR_CHUNK):
        yield world.creators[at:at + CREATOR_CHUNK]


async def _samples(world: World, api: Api, loaded: Loaded, progress: Progress) -> None:
    task = progress.add_task("follower samples (audit)", total=len(world.creators) * SAMPLE_SIZE)
    # A creator's whole sample in one request (a request's lines of one creator are its new
    # version): 5,000 lines a request, whole samples of SAMPLE_SIZE.
    for chunk in _creator_chunks(world):
        lines = [{"creator_id": loaded.creator_ids[c.key], **profile} for c in chunk for profile in c.sample]
        await _until_known(api, "/v1/audit/followers/bulk", lines, FOLLOWER_LINES, "sampled followers", loaded, progress, task)


async def _comments(world: World, api: Api, loaded: Loaded, progress: Progress) -> None:
    task = progress.add_task("comments (audit)", total=None)
    for chunk in _creator_chunks(world):
        lines = [comment for c in chunk for comment in c.comments]
        await _until_known(api, "/v1/audit/comments/bulk", lines, COMMENT_LINES, "comments", loaded, progress, task)
    progress.update(task, total=loaded.counts.get("comments", 0))


@dataclass
class Shop:
    source_id: str
    secret: str
    domain: str


async def _campaigns(world: World, apis: list[Api], loaded: Loaded, progress: Progress) -> list[Shop]:
    total = sum(len(c.creators) for b in world.brands for c in b.campaigns)
    task = progress.add_task("campaigns, codes and links", total=total)
    shops = []
    today = world.anchor.date()
    for b, (brand, api) in enumerate(zip(world.brands, apis)):
        secret = "shpss_" + hashlib.sha256(f"{world.seed}:{brand.name}".encode()).hexdigest()[:32]
        source = await api.json("POST", "/v1/webhook-sources", json={
            "kind": "shopify", "name": f"{brand.name} store", "shop_domain": brand.shop_domain, "secret": secret})
        shops.append(Shop(source["id"], secret, brand.shop_domain))
        loaded.add("webhook sources")
        ids = []
        for c, campaign in enumerate(brand.campaigns):
            made = await api.json("POST", "/v1/attribution/campaigns", json={
                "name": campaign.name, "brand": brand.name, "starts_on": (today - timedelta(days=30)).isoformat(),
                "ends_on": (today + timedelta(days=365)).isoformat(), "budget": 5_000_000, "currency": brand.currency})
            campaign_id = made["id"]
            ids.append(campaign_id)
            await api.call("PATCH", f"/v1/attribution/campaigns/{campaign_id}", json={"status": "active"})
            await api.call("POST", f"/v1/attribution/campaigns/{campaign_id}/rules",
                           json={"percent": str(PERCENT), "holding_days": HOLDING_DAYS})
            loaded.add("campaigns")

            async def enrol(key: str, campaign=campaign, campaign_id=campaign_id, brand=brand, api=api):
                creator_id = loaded.creator_ids[key]
                await api.call("POST", f"/v1/attribution/campaigns/{campaign_id}/creators",
                               json={"creator_id": creator_id, "deal_type": "affiliate"})
                await api.call("POST", "/v1/attribution/codes",
                               json={"campaign_id": campaign_id, "creator_id": creator_id, "code": campaign.codes[key]})
                link = await api.json("POST", "/v1/attribution/links", json={
                    "campaign_id": campaign_id, "creator_id": creator_id, "platform": key.split(":")[0],
                    "destination": f"https://{brand.shop_domain.split('.')[0]}.example/products/featured"})
                progress.advance(task)
                return key, link["slug"]

            for key, slug in await _gather(CONCURRENCY, [enrol(k) for k in campaign.creators]):
                loaded.slugs[(b, c, key)] = slug
            loaded.add("enrolments", len(campaign.creators))
            loaded.add("codes", len(campaign.creators))
            loaded.add("links", len(campaign.creators))
        loaded.campaign_ids.append(ids)
        for key, email in brand.customer_keys.items():
            await api.call("POST", f"/v1/attribution/creators/{loaded.creator_ids[key]}/customer-keys", json={"email": email})
            loaded.add("creator customer keys")
    return shops


async def _clicks(world: World, gateway: str, loaded: Loaded, progress: Progress) -> None:
    task = progress.add_task("clicks (GET /r/{slug})", total=len(world.clicks))

    async def click(n: int) -> None:
        planned = world.clicks[n]
        api = Api(gateway, local_address=planned.visitor)
        try:
            answer = await api.call("GET", f"/r/{loaded.slugs[(planned.brand, planned.campaign, planned.creator)]}",
                                    ok=(302,), headers={"User-Agent": planned.agent, "Referer": "https://www.instagram.com/"})
        finally:
            await api.close()
        loaded.click_ids[n] = parse_qs(urlsplit(answer.headers["location"]).query)["ll_click"][0]
        loaded.add("bot clicks" if planned.bot else "clicks")
        progress.advance(task)

    await _gather(CONCURRENCY, [click(n) for n in range(len(world.clicks))])
    loaded.last_click = time.time()


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def shopify_order(order: Order, currency: str, placed: datetime, click_id: str | None, code: str | None,
                  *, updated: datetime | None = None, cancelled: datetime | None = None) -> dict:
    """An order as Shopify's orders/create (and orders/updated, orders/cancelled) sends it."""
    line_total = order.unit_price * order.quantity
    discount = order.unit_discount * order.quantity
    shipping = 490
    body = {
        "id": order.number, "admin_graphql_api_id": f"gid://shopify/Order/{order.number}", "name": f"#{order.number % 100000}",
        "created_at": placed.isoformat(timespec="milliseconds"), "updated_at": (updated or placed).isoformat(timespec="milliseconds"),
        "currency": currency, "presentment_currency": currency, "email": order.email, "taxes_included": False,
        "financial_status": "paid", "test": False,
        "discount_codes": [{"code": code, "amount": _money(discount), "type": "percentage"}] if code else [],
        "landing_site": f"/products/featured?ll_click={click_id}" if click_id else "/",
        "referring_site": "https://www.instagram.com/" if click_id else "",
        "line_items": [{
            "id": order.number * 10 + 1, "product_id": 700 + order.unit_price // 100, "variant_id": 900 + order.unit_price // 100,
            "sku": f"SKU-{order.unit_price // 100}", "title": "Featured product", "quantity": order.quantity,
            "price": _money(order.unit_price), "discount_allocations": [{"amount": _money(discount)}] if discount else [],
            "tax_lines": [],
        }],
        "subtotal_price": _money(line_total - discount), "total_discounts": _money(discount), "total_tax": "0.00",
        "total_shipping_price_set": {"shop_money": {"amount": _money(shipping), "currency_code": currency}},
        "total_price": _money(line_total - discount + shipping),
        "shipping_address": {"country_code": order.country},
        "cancelled_at": cancelled.isoformat(timespec="seconds") if cancelled else None,
    }
    return body


def shopify_refund(order: Order, currency: str, at: datetime) -> dict:
    amount = order.refunded_units * (order.unit_price - order.unit_discount)
    return {"id": order.number * 10 + 7, "order_id": order.number, "created_at": at.isoformat(timespec="seconds"),
            "processed_at": at.isoformat(timespec="seconds"), "note": "returned", "restock": True,
            "refund_line_items": [{"id": order.number * 10 + 8, "line_item_id": order.number * 10 + 1,
                                   "quantity": order.refunded_units, "restock_type": "return",
                                   "subtotal": _money(amount), "total_tax": "0.00"}],
            "order_adjustments": [],
            "transactions": [{"kind": "refund", "status": "success", "amount": _money(amount), "currency": currency}]}


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


async def _orders(world: World, gateway: str, shops: list[Shop], loaded: Loaded, progress: Progress) -> None:
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
        for chunk in _chunks(deliveries, CONCURRENCY):
            await asyncio.gather(*(deliver(*d) for d in chunk))
        await asyncio.gather(*(one_by_one(orders) for orders in leaked.values()))
        await _gather(CONCURRENCY, [deliver(*d) for d in follow_ups])
    finally:
        await api.close()


async def _audits(world: World, api: Api, loaded: Loaded, progress: Progress) -> None:
    """An audit of every creator, once audit has found the engagement pods in the new comments
    (its pods job runs a few seconds after comments stop arriving)."""
    members = {loaded.creator_ids[world.creators.key(i)] for i in world.creators.indices_of("engagement_pod")}
    task = progress.add_task("pod creators seen by audit's pods job", total=len(members))
    deadline = time.monotonic() + 120
    while True:
        covered, cursor = set(), None
        while True:
            found = await api.json("GET", "/v1/audit/pods", params={"limit": 200, **({"cursor": cursor} if cursor else {})})
            covered |= members & {str(c) for p in found["items"] for c in p["creators"]}
            cursor = found.get("next_cursor")
            if not cursor:
                break
        progress.update(task, completed=len(covered))
        if covered == members or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    task = progress.add_task("audits requested", total=len(world.creators))

    async def audit(key: str) -> None:
        made = await api.json("POST", "/v1/audit/audits", json={"creator_id": loaded.creator_ids[key]}, ok=(200, 201, 202))
        loaded.audits.append(made["id"])
        progress.advance(task)

    await _gather(CONCURRENCY, [audit(key) for key in loaded.creator_ids])
    loaded.add("audits requested", len(world.creators))


def summary(world: World, loaded: Loaded) -> Table:
    table = Table(title=f"Limelight demo world (seed {world.seed})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in loaded.counts.items():
        if not name.startswith("_"):
            table.add_row(name, f"{count:,}")
    truth = world.truth()
    for kind, keys in truth["creator_fraud"].items():
        table.add_row(f"planted: {kind.replace('_', ' ')} (creators)", f"{len(keys):,}")
    for kind, numbers in truth["order_fraud"].items():
        table.add_row(f"planted: {kind.replace('_', ' ')} (orders)", f"{len(numbers):,}")
    return table


def write_truth(world: World, loaded: Loaded, path: Path) -> None:
    """The ground truth, with the ids the platform gave (keys are not in it: see write_keys)."""
    truth = world.truth()
    truth["creator_ids"] = loaded.creator_ids
    truth["campaign_ids"] = loaded.campaign_ids
    truth["workspaces"] = [{"name": b["name"], "tenant_id": b["tenant_id"]} for b in loaded.brand_keys]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, indent=1, sort_keys=True, default=str) + "\n")


def write_keys(loaded: Loaded, path: Path) -> None:
    """The brands' API keys, readable by this user only (they are secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(loaded.brand_keys, out, indent=1)
        out.write("\n")
