"""A batch of partner deliveries applied as the order consumer applies it — one transaction, its
answers read once by `prepare` (orders/batch.py, docs/decisions/0063) — ends exactly as the same
deliveries applied one transaction each, without `prepare`: the same orders, decisions, new
customers, commissions, refunds and ledger. Through the consumer's own `apply_events` and
attribution's own handlers, on the real database; the statements each way are counted, so the
batch is shown to ask once what the one-by-one way asks per order."""

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from services.attribution.codes.models import Code
from services.attribution.crediting.models import OrderCredit
from services.attribution.db import ProcessedEvent
from services.attribution.ledger.models import ClawbackClaim, LedgerEntry
from services.attribution.orders.handlers import WEBHOOK_TOPIC, Deliveries
from services.attribution.orders.model import customer_hash
from services.attribution.orders.models import PartnerOrder
from shared import tenancy
from shared.contracts.envelope import new_envelope
from shared.contracts.gateway import WebhookReceived
from shared.messaging.applying import apply_events
from shared.messaging.processed import ProcessedEvents
from shared.messaging.routing import Router, Subscription
from tests.attribution.test_crediting_e2e import brand_setup, fixture
from tests.attribution.test_orders_e2e import new_order_id, with_order_id
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CUSTOMERS = customer_hash(b"a test key of the batch's answers")


def _order(order_id: int, code: str | None, email: str, placed: datetime, *, test: bool = False) -> dict:
    body = with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id)
    body["created_at"] = body["updated_at"] = placed.isoformat()
    body["discount_codes"] = [{"code": code, "amount": "10.50", "type": "percentage"}] if code else []
    body["landing_site"] = "/products/black-tee"
    body["note_attributes"] = []
    body["email"] = body["customer"]["email"] = email
    body["test"] = test
    return body


def scenario(code: str, run: str, base: datetime) -> tuple[list[tuple[str, str, dict]], dict[str, int]]:
    """(label, topic, body) in delivery order, and each label's order id; every name and id the run's own."""
    ids = {label: new_order_id() for label in "ABCDTUVW"}
    ann, bob, cara = (f"{name}-{run}@example.com" for name in ("ann", "bob", "cara"))
    minutes = lambda m: base + timedelta(minutes=m)  # noqa: E731
    refund = with_order_id(fixture("refunds-create-usd-partial.json"), ids["D"])
    refund["id"] = new_order_id()
    refund["created_at"] = refund["processed_at"] = minutes(50).isoformat()
    a = _order(ids["A"], code.lower(), ann, minutes(30))
    u = _order(ids["U"], code, bob, minutes(20))
    moved = copy.deepcopy(u)  # an update that places U earlier: bob's first order moves
    moved["created_at"], moved["updated_at"], moved["note"] = minutes(1).isoformat(), minutes(45).isoformat(), "moved"
    cancelled = copy.deepcopy(a)
    cancelled["cancelled_at"] = cancelled["updated_at"] = minutes(55).isoformat()
    return [
        ("A", "orders/create", a),
        ("B", "orders/create", _order(ids["B"], code.upper(), ann, minutes(10))),  # placed before A: ann is new here
        ("C", "orders/create", _order(ids["C"], code, ann, minutes(40))),  # after A and B: not new
        ("T", "orders/create", _order(ids["T"], code, bob, minutes(5), test=True)),  # a test order counts for nobody
        ("U", "orders/create", u),  # bob is new: only a test order before
        ("D", "refunds/create", refund),  # the refund ahead of its order
        ("D", "orders/create", _order(ids["D"], code, cara, minutes(15))),
        ("A", "orders/create", copy.deepcopy(a)),  # the partner's retry
        ("U", "orders/updated", moved),
        ("V", "orders/create", _order(ids["V"], code, bob, minutes(3))),  # after U's new placement: not new
        ("W", "orders/create", _order(ids["W"], f"NOPE{run}", cara, minutes(35))),  # no such code
        ("A", "orders/cancelled", cancelled),
    ], ids


def _envelopes(source, tenant_id, deliveries) -> list:
    out = []
    for _, topic, body in deliveries:
        payload = WebhookReceived(
            delivery_id=str(uuid.uuid4()), partner_id=source.shop_domain, source="shopify",
            source_id=uuid.UUID(source.id), topic=topic, received_at=datetime.now(UTC),
            content_type="application/json", body=json.dumps(body))
        out.append((WEBHOOK_TOPIC, new_envelope(event_type="WebhookReceived", producer="gateway",
                                                aggregate_id=source.id, payload=payload, tenant_id=tenant_id)))
    return out


class Statements:
    """The statements the engine runs while counting, by what they read."""

    def __init__(self, engine):
        self.engine, self.seen = engine.sync_engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append(" ".join(statement.split()))

    def count(self, start: str) -> int:
        return sum(1 for s in self.seen if s.startswith(start))


async def _apply(sessions, attribution_engine, tenant_id, source, deliveries, *, batched: bool) -> Statements:
    handlers = Deliveries(CUSTOMERS)
    prepare, finish = (handlers.prepare, handlers.finish) if batched else (None, None)
    router = Router([Subscription(WEBHOOK_TOPIC, "WebhookReceived", handlers.received, prepare, finish)])
    processed = ProcessedEvents(ProcessedEvent, f"test.batch-{uuid.uuid4().hex[:8]}", [WEBHOOK_TOPIC])
    events = _envelopes(source, tenant_id, deliveries)
    with Statements(attribution_engine) as statements:
        for chunk in ([events] if batched else [[e] for e in events]):
            async with sessions() as session, session.begin():
                await apply_events(session, processed, router, chunk)
    return statements


async def _outcome(sessions, tenant_id, ids: dict[str, int], code: str) -> dict:
    async with sessions() as session:
        tenancy.bind_tenant(session, tenant_id)
        out = {}
        for label, order_id in ids.items():
            row = (await session.execute(select(PartnerOrder).where(PartnerOrder.order_id == str(order_id)))).scalar_one()
            credit = (await session.execute(select(OrderCredit).where(OrderCredit.order_ref == row.id))).scalar_one()
            entries = (await session.execute(select(LedgerEntry.kind, LedgerEntry.amount)
                                             .where(LedgerEntry.order_id == str(order_id)))).all()
            claims = (await session.execute(select(ClawbackClaim.amount).where(
                ClawbackClaim.order_id == str(order_id)))).scalars().all()
            out[label] = {
                "state": row.state, "basis": row.basis_minor, "placed": row.placed_at, "outcome": credit.outcome,
                "new_customer": credit.new_customer, "commission": credit.commission_minor,
                "revenue_in_window": credit.revenue_in_window_minor, "earned": credit.earned_in_period_minor,
                "ledger": sorted(entries), "claims": sorted(claims, key=str),
            }
        uses = (await session.execute(select(Code.uses).where(Code.code == code))).scalar_one()
    return out, uses


async def test_a_prepared_batch_ends_as_the_same_deliveries_one_by_one(gateway, tenant, sessions, attribution_engine):
    base = datetime.now(UTC) + timedelta(minutes=2)
    ends, counted = {}, {}
    for run, batched in (("one", False), ("batch", True)):
        _, _, code = await brand_setup(gateway)  # each run its own creator, code and customers
        source = await create_shopify_source(gateway)
        deliveries, ids = scenario(code, f"{run}-{uuid.uuid4().hex[:6]}", base)
        counted[run] = await _apply(sessions, attribution_engine, tenant.tenant_id, source, deliveries, batched=batched)
        orders, uses = await _outcome(sessions, tenant.tenant_id, ids, code)
        ends[run] = ({label: {k: v for k, v in o.items() if k != "placed"} for label, o in orders.items()}, uses)
        placed = {label: o["placed"] - base for label, o in orders.items()}
        assert placed["U"] == timedelta(minutes=1)  # the update moved it

    assert ends["batch"] == ends["one"]
    orders, uses = ends["batch"]
    # What the memo answers, checked against what the rules say, not only against each other.
    assert [orders[k]["new_customer"] for k in "ABC"] == [True, True, False]
    assert orders["T"]["outcome"] == "unattributed"  # a test order is never credited
    assert orders["U"]["new_customer"] is True and orders["V"]["new_customer"] is False
    assert orders["W"]["outcome"] == "unattributed"
    assert orders["D"]["outcome"] == "credited" and orders["D"]["claims"]  # the refund kept ahead was counted
    assert any(kind == "clawback" for kind, _ in orders["D"]["ledger"])
    assert orders["A"]["state"] == "cancelled"
    assert uses == sum(1 for o in orders.values() if o["outcome"] == "credited")
    # The batch asked once what one by one was asked per order.
    codes = "SELECT attribution.codes."
    assert counted["one"].count(codes) >= 8 and counted["batch"].count(codes) == 1
    earlier = "SELECT attribution.orders.id FROM attribution.orders WHERE attribution.orders.customer_key"
    assert counted["one"].count(earlier) >= 6 and counted["batch"].count(earlier) <= 1
    # And wrote once, at its end, what one by one wrote per order: totals, use counts, events.
    for write in ("INSERT INTO attribution.creator_day_totals", "UPDATE attribution.codes",
                  "INSERT INTO attribution.outbox"):
        assert counted["one"].count(write) >= 5 and counted["batch"].count(write) == 1, write
