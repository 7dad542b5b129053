"""A steady load through the gateway while faults are injected: signed Shopify orders, clicks on
tracked links and searches, each at its own rate, every answer counted against the phase (the
fault) it was sent in.

Orders are sent as Shopify sends them: a delivery not acknowledged with a 2xx (or not answered
at all) is sent again a second later under the same X-Shopify-Webhook-Id, until it is. So an
order is *acknowledged* once, and must then be in the ledger exactly once.
"""

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx

from runtime.seed.model import Order
from runtime.seed.shopify import shopify_order, sign

SEARCHES = ("vegan baking", "running shoes", "skincare routine", "travel on a budget", "home workouts")
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
TIMEOUT = 10.0


@dataclass
class Tally:
    """One phase's requests: sent, acknowledged, answers by status, and no answer at all."""

    sent: Counter = field(default_factory=Counter)
    acknowledged: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)  # (kind, status)
    unanswered: Counter = field(default_factory=Counter)

    def count(self, status_from: int, status_to: int) -> int:
        return sum(n for (_, status), n in self.statuses.items() if status_from <= status <= status_to)


@dataclass
class Shop:
    source_id: str
    secret: str
    domain: str
    currency: str = "USD"


@dataclass
class LoadOrder:
    number: int
    code: str
    creator_id: str
    price: int  # minor units; a multiple of 10, so 10 % of it is exact

    @property
    def commission(self) -> int:
        return self.price // 10


def order_payload(order: Order, shop: Shop, code: str, placed: datetime, **changes) -> dict:
    return shopify_order(order, shop.currency, placed, None, code, **changes)


async def deliver(client: httpx.AsyncClient, shop: Shop, topic: str, payload: dict, webhook_id: str) -> int | None:
    """POST one signed Shopify delivery; its status, or None when nothing answered."""
    body = json.dumps(payload).encode()
    try:
        answer = await client.post(f"/webhooks/shopify/{shop.source_id}", content=body, headers={
            "content-type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop.domain,
            "X-Shopify-Webhook-Id": webhook_id, "X-Shopify-API-Version": "2025-10",
            "X-Shopify-Hmac-Sha256": sign(body, shop.secret)})
    except httpx.HTTPError:
        return None
    return answer.status_code


class Load:
    def __init__(self, gateway: str, key: str, shop: Shop, codes: list[tuple[str, str]], slugs: list[str], *,
                 first_order: int, rates: dict[str, float]):
        self.gateway = gateway
        self.shop = shop
        self.codes = codes  # (code, creator id)
        self.slugs = slugs
        self.rates = rates
        self.phase = "steady"
        self.tallies: dict[str, Tally] = {}
        self.orders: dict[int, LoadOrder] = {}
        self.acknowledged_orders: dict[int, str] = {}  # order number → phase it was acknowledged in
        self.acknowledged_clicks: dict[str, str] = {}  # click id as appended (sealed) → phase
        self._retry: asyncio.Queue[int] = asyncio.Queue()
        self._next_order = first_order
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._in_flight: set[asyncio.Task] = set()
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        self.anonymous = httpx.AsyncClient(base_url=gateway, timeout=TIMEOUT, limits=limits)
        self.brand = httpx.AsyncClient(base_url=gateway, timeout=TIMEOUT, limits=limits,
                                       headers={"Authorization": f"Bearer {key}"})
        self.placed = datetime.now(timezone.utc).replace(microsecond=0)

    def tally(self) -> Tally:
        return self.tallies.setdefault(self.phase, Tally())

    def _record(self, kind: str, status: int | None, ok: bool) -> str:
        phase = self.phase
        tally = self.tallies.setdefault(phase, Tally())
        tally.sent[kind] += 1
        if status is None:
            tally.unanswered[kind] += 1
        else:
            tally.statuses[(kind, status)] += 1
        if ok:
            tally.acknowledged[kind] += 1
        return phase

    # -- the three kinds of traffic -------------------------------------------------------
    def _new_order(self) -> LoadOrder:
        n = self._next_order
        self._next_order += 1
        code, creator_id = self.codes[n % len(self.codes)]
        order = LoadOrder(n, code, creator_id, 2000 + 10 * (n % 300))
        self.orders[n] = order
        return order

    async def _order(self, number: int) -> None:
        order = self.orders[number]
        seed_order = Order(brand=0, campaign=0, number=order.number, creator="", by="code",
                           email=f"shopper-{order.number}@load.example", quantity=1, unit_price=order.price,
                           unit_discount=0)
        payload = order_payload(seed_order, self.shop, order.code, self.placed + timedelta(milliseconds=order.number % 100_000))
        status = await deliver(self.anonymous, self.shop, "orders/create", payload,
                               str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.shop.domain}/orders/create/{order.number}")))
        ok = status is not None and 200 <= status < 300
        phase = self._record("webhook", status, ok)
        if ok:
            self.acknowledged_orders.setdefault(number, phase)
        else:
            await asyncio.sleep(1.0)  # as Shopify does, later and with the same delivery id
            self._retry.put_nowait(number)

    async def _click(self, n: int) -> None:
        slug = self.slugs[n % len(self.slugs)]
        try:
            answer = await self.anonymous.get(f"/r/{slug}", headers={"User-Agent": BROWSER, "Referer": "https://www.instagram.com/"})
            status = answer.status_code
        except httpx.HTTPError:
            answer, status = None, None
        ok = status == 302
        phase = self._record("click", status, ok)
        if ok:
            # The click id the redirect appends is the click, sealed (shared/clicks/token.py); the
            # suite opens it with the installation's key: its events name the click by the id inside.
            carried = parse_qs(urlsplit(answer.headers["location"]).query)["ll_click"][0]
            self.acknowledged_clicks[carried] = phase

    async def _search(self, n: int) -> None:
        try:
            answer = await self.brand.post("/v1/discovery/search", json={"q": SEARCHES[n % len(SEARCHES)], "limit": 10})
            status = answer.status_code
        except httpx.HTTPError:
            status = None
        self._record("search", status, status == 200)

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _paced(self, kind: str, make) -> None:
        interval = 1.0 / self.rates[kind]
        n, started = 0, time.monotonic()
        while not self._stop.is_set():
            make(n)
            n += 1
            delay = started + n * interval - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), delay)
                except TimeoutError:
                    pass

    def _next_webhook(self, n: int) -> None:
        number = self._retry.get_nowait() if not self._retry.empty() else self._new_order().number
        self._spawn(self._order(number))

    def start(self) -> None:
        self._tasks = [
            asyncio.ensure_future(self._paced("webhook", self._next_webhook)),
            asyncio.ensure_future(self._paced("click", lambda n: self._spawn(self._click(n)))),
            asyncio.ensure_future(self._paced("search", lambda n: self._spawn(self._search(n)))),
        ]

    async def stop(self) -> None:
        """Stop sending new traffic and wait for the requests in flight."""
        self._stop.set()
        await asyncio.gather(*self._tasks)
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def redeliver_unacknowledged(self, timeout: float) -> None:
        """Send every order not acknowledged yet until it is (the partner's retries after the load)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            waiting = [n for n in self.orders if n not in self.acknowledged_orders]
            if not waiting:
                return
            await asyncio.gather(*(self._order(n) for n in waiting))
        # Whatever is still unacknowledged is reported as such; nothing is assumed.

    async def close(self) -> None:
        await self.anonymous.aclose()
        await self.brand.aclose()
