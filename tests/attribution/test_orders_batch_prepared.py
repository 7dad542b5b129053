"""A batch of partner deliveries applied as the order consumer applies it — one transaction, its
answers read once by `prepare` (orders/batch.py, docs/decisions/0063) — ends exactly as the same
deliveries applied one transaction each, without `prepare`: the same orders, decisions, new
customers, commissions, refunds and ledger. Through the consumer's own `apply_events` and
attribution's own handlers, on the real database; the statements each way are counted, so the
batch is shown to ask once what the one-by-one way asks per order."""

import copy
import itertools
import json
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import event, select

from services.attribution.codes.models import Code
from services.attribution.crediting.models import CreatorDayTotal, OrderCredit
from services.attribution.db import ProcessedEvent, outbox
from services.attribution.fraud.models import FraudReview
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


def scenario(code: str, limited: str, run: str, base: datetime) -> tuple[list[tuple[str, str, dict]], dict[str, int]]:
    """(label, topic, body) in delivery order, and each label's order id; every name and id the run's own.
    `limited`: a code of the same creator usable twice."""
    ids = {label: new_order_id() for label in "ABCDTUVWYZLMNEFGHPQR"}
    ann, bob, cara, dan = (f"{name}-{run}@example.com" for name in ("ann", "bob", "cara", "dan"))
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
    yesterday = base - timedelta(days=1)  # before the rule: credited, no commission, in the day totals
    p = _order(ids["P"], code, dan, minutes(50))
    p_noted = copy.deepcopy(p)  # an update of a stored order: the batch no longer answers for dan
    p_noted["updated_at"], p_noted["note"] = minutes(51).isoformat(), "noted"
    return [
        ("Y", "orders/create", _order(ids["Y"], code, f"yan-{run}@example.com", yesterday)),
        ("Z", "orders/create", _order(ids["Z"], code, f"zoe-{run}@example.com", yesterday + timedelta(minutes=5))),
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
        # A run on the code, placed in order: its last hour passes the velocity rule's floor.
        *((k, "orders/create", _order(ids[k], code, f"{k.lower()}-{run}@example.com", minutes(41 + i)))
          for i, k in enumerate("EFGH")),
        ("L", "orders/create", _order(ids["L"], limited, cara, minutes(36))),
        ("M", "orders/create", _order(ids["M"], limited.lower(), cara, minutes(37))),
        ("N", "orders/create", _order(ids["N"], limited, cara, minutes(38))),  # its limit of 2 reached
        ("P", "orders/create", p),
        ("P", "orders/updated", p_noted),
        # Asked of the database (dan's memo is gone): R, placed before Q but arriving after it, is
        # not there yet at Q's turn (the batch inserted it ahead: orders/batch.py `pending_orders`).
        ("Q", "orders/create", _order(ids["Q"], code, dan, minutes(30))),
        ("R", "orders/create", _order(ids["R"], code, dan, minutes(20))),
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
    """Apply the deliveries (as one prepared batch, or one transaction each without the hooks): the
    statements they ran."""
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


async def _outcome(sessions, tenant_id, ids: dict[str, int], codes: list[str], creator: str, labels: dict) -> tuple:
    """Per order label: its state, decision and ledger; the codes' use counts; the creator's day totals."""
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
            review = (await session.execute(select(FraudReview.findings).where(
                FraudReview.order_ref == row.id))).scalar_one_or_none()
            labels[str(row.id)] = label
            out[label] = {
                "state": row.state, "basis": row.basis_minor, "placed": row.placed_at, "outcome": credit.outcome,
                "new_customer": credit.new_customer, "commission": credit.commission_minor,
                "revenue_in_window": credit.revenue_in_window_minor, "earned": credit.earned_in_period_minor,
                "ledger": sorted(entries), "claims": sorted(claims, key=str), "review": review,
            }
        uses = [(await session.execute(select(Code.uses).where(Code.code == code))).scalar_one() for code in codes]
        totals = sorted((await session.execute(
            select(CreatorDayTotal.day, CreatorDayTotal.orders, CreatorDayTotal.revenue_minor, CreatorDayTotal.commission_minor)
            .where(CreatorDayTotal.creator_id == uuid.UUID(creator)))).all())
    return out, uses, totals


def _scenario_base() -> datetime:
    """Two minutes from now, after the rule is made (an order placed before it earns nothing); or
    two minutes past the next UTC midnight when the scenario's hour would cross it: its orders of
    "today" must share a day (the day totals it checks, the rule's window of the days before)."""
    base = datetime.now(UTC) + timedelta(minutes=2)
    if (base + timedelta(minutes=60)).date() != base.date():
        base = datetime.combine(base.date() + timedelta(days=1), time(0, 2), UTC)
    return base


async def test_a_prepared_batch_ends_as_the_same_deliveries_one_by_one(gateway, tenant, sessions, attribution_engine,
                                                                     monkeypatch):
    base = _scenario_base()
    ends, counted, events = {}, {}, {}
    written: list = []
    add = outbox._add

    async def kept(session, topic, envelopes, rendered):  # the outbox's events, as numbered
        added = await add(session, topic, envelopes, rendered)
        written.extend((topic, e) for e in added)
        return added

    monkeypatch.setattr(outbox, "_add", kept)
    for run, batched in (("one", False), ("batch", True)):
        campaign_id, creator_id, code = await brand_setup(gateway)  # each run its own creator, codes and customers
        limited = f"TWICE{uuid.uuid4().hex[:6].upper()}"
        made = await gateway.post("/v1/attribution/codes", json={
            "campaign_id": campaign_id, "creator_id": creator_id, "code": limited, "usage_limit": 2})
        assert made.status_code == 201, made.text
        source = await create_shopify_source(gateway)
        deliveries, ids = scenario(code, limited, f"{run}-{uuid.uuid4().hex[:6]}", base)
        written.clear()
        counted[run] = await _apply(sessions, attribution_engine, tenant.tenant_id, source, deliveries, batched=batched)
        labels = {}
        orders, uses, totals = await _outcome(sessions, tenant.tenant_id, ids, [code, limited], creator_id, labels)
        ends[run] = ({label: {k: v for k, v in o.items() if k != "placed"} for label, o in orders.items()}, uses, totals)
        events[run] = sorted((topic, labels[e.aggregate_id], e.sequence, e.event_type, e.payload.commission_minor)
                             for topic, e in written)
        placed = {label: o["placed"] - base for label, o in orders.items()}
        assert placed["U"] == timedelta(minutes=1)  # the update moved it

    assert ends["batch"] == ends["one"]
    assert events["batch"] == events["one"]
    orders, uses, totals = ends["batch"]
    # What the memo answers, checked against what the rules say, not only against each other.
    assert [orders[k]["new_customer"] for k in "ABC"] == [True, True, False]
    assert orders["T"]["outcome"] == "unattributed"  # a test order is never credited
    assert orders["U"]["new_customer"] is True and orders["V"]["new_customer"] is False
    assert [orders[k]["new_customer"] for k in "PQR"] == [True, True, True]
    assert orders["W"]["outcome"] == "unattributed"
    assert orders["D"]["outcome"] == "credited" and orders["D"]["claims"]  # the refund kept ahead was counted
    assert any(kind == "clawback" for kind, _ in orders["D"]["ledger"])
    assert orders["A"]["state"] == "cancelled"
    # The leaked-code rule's velocity signal, read over the code-hour totals (yesterday's two orders
    # there, deferred to the batch's end in the batch) and the hour's decisions, fires alike.
    velocity = [k for k, o in orders.items() if o["review"] and any(
        f["evidence"].get("signal") == "velocity" for f in o["review"])]
    assert len(velocity) >= 3, {k: o["review"] for k, o in orders.items()}
    assert uses == [sum(1 for k, o in orders.items() if o["outcome"] == "credited" and k not in "LMN"), 2]
    assert [orders[k]["outcome"] for k in "LMN"] == ["credited", "credited", "unattributed"]
    # Yesterday's two orders are in the totals the rule reads (the window is the days before the order's).
    assert orders["Y"]["commission"] == 0 and orders["A"]["revenue_in_window"] == orders["Y"]["basis"] + orders["Z"]["basis"] > 0
    assert len(totals) == 2 and totals[0][1] == 2  # yesterday: 2 orders; today: the rest
    # Each credited order's event, and the reversals of the refund and the cancellation, numbered per order.
    assert ("attribution.conversion.v1", "A", 2, "ConversionReversed", -orders["A"]["commission"]) in events["batch"]
    assert sum(1 for e in events["batch"] if e[3] == "ConversionAttributed") == sum(
        1 for o in orders.values() if o["outcome"] == "credited")
    # The batch asked once what one by one was asked per order.
    codes = "SELECT attribution.codes."
    assert counted["one"].count(codes) >= 8 and counted["batch"].count(codes) == 1
    earlier = "SELECT attribution.orders.id FROM attribution.orders WHERE attribution.orders.customer_key"
    # (the batch asks for V, Q and R only: their customers' stored orders changed in the batch)
    assert counted["one"].count(earlier) >= 6 and counted["batch"].count(earlier) <= 3
    # And wrote once, at its end, what one by one wrote per order: totals, use counts, events.
    for write, once in (("INSERT INTO attribution.creator_day_totals", 1), ("UPDATE attribution.codes", 2),
                        ("INSERT INTO attribution.outbox", 1), ("INSERT INTO attribution.code_hour_totals", 1),
                        ("INSERT INTO attribution.code_minute_totals", 1)):  # the totals in one statement, each code's count in one
        assert counted["one"].count(write) >= 5 and counted["batch"].count(write) == once, write


async def test_one_batch_of_two_tenants_keeps_their_codes_and_customers_apart(
        gateway, other_gateway, tenant, other_tenant, sessions, attribution_engine):
    """Two workspaces with a code of the same name and a customer of the same address, their
    deliveries interleaved in one prepared batch: each order credits its own workspace's creator,
    and each workspace's first order of that customer is a new customer's."""
    code = f"SAME{uuid.uuid4().hex[:6].upper()}"
    email = f"both-{uuid.uuid4().hex[:6]}@example.com"
    base = datetime.now(UTC) + timedelta(minutes=2)
    sides = []
    for client, who in ((gateway, tenant), (other_gateway, other_tenant)):
        campaign_id, creator_id, _ = await brand_setup(client)
        made = await client.post("/v1/attribution/codes", json={
            "campaign_id": campaign_id, "creator_id": creator_id, "code": code})
        assert made.status_code == 201, made.text
        source = await create_shopify_source(client)
        first, second = new_order_id(), new_order_id()
        sides.append((who.tenant_id, creator_id, source, first, second))
    events = []
    for minute, pick in ((5, 3), (6, 4)):  # each workspace's first order, then its second, interleaved
        for tenant_id, _, source, *orders in sides:
            body = _order(orders[pick - 3], code, email, base + timedelta(minutes=minute))
            events += _envelopes(source, tenant_id, [("", "orders/create", body)])
    handlers = Deliveries(CUSTOMERS)
    router = Router([Subscription(WEBHOOK_TOPIC, "WebhookReceived", handlers.received, handlers.prepare,
                                  handlers.finish)])
    processed = ProcessedEvents(ProcessedEvent, f"test.batch-{uuid.uuid4().hex[:8]}", [WEBHOOK_TOPIC])
    async with sessions() as session, session.begin():
        await apply_events(session, processed, router, events)
    for tenant_id, creator_id, _, first, second in sides:
        async with sessions() as session:
            tenancy.bind_tenant(session, tenant_id)
            found = {}
            for order_id in (first, second):
                found[order_id] = (await session.execute(
                    select(OrderCredit.outcome, OrderCredit.creator_id, OrderCredit.new_customer)
                    .join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
                    .where(PartnerOrder.order_id == str(order_id)))).one()
            uses = (await session.execute(select(Code.uses).where(Code.code == code))).scalar_one()
        assert found[first] == ("credited", uuid.UUID(creator_id), True)
        assert found[second] == ("credited", uuid.UUID(creator_id), False)
        assert uses == 2


async def test_a_batch_writes_its_new_decisions_and_commissions_together(gateway, tenant, sessions, attribution_engine):
    """The rows a batch of new orders adds — decisions, ledger entries — wait in the session and are
    written together (orders/batch.py `flush`): a few INSERTs for seventy orders, not one per order,
    the decisions before the ledger entries (the report trigger on a decision does more when its
    order's entries are there already), and every order is in the ledger with its commission."""
    campaign_id, creator_id, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    base, run = datetime.now(UTC) + timedelta(minutes=2), uuid.uuid4().hex[:6]
    ids = [new_order_id() for _ in range(70)]
    deliveries = [("", "orders/create", _order(order_id, code, f"n{i}-{run}@example.com", base + timedelta(milliseconds=800 * i)))
                  for i, order_id in enumerate(ids)]
    counted = await _apply(sessions, attribution_engine, tenant.tenant_id, source, deliveries, batched=True)
    for table in ("order_credits", "ledger_entries"):
        assert 2 <= counted.count(f"INSERT INTO attribution.{table} ") <= 4, table  # pages of 64; the first order's may go alone
    # The seventy new orders inserted ahead of their turns (orders/batch.py `_insert_new_orders`), in
    # pages of at most 64 rows (shared/db.py): two statements, whose texts recur batch after batch.
    orders = [s for s in counted.seen if s.startswith("INSERT INTO attribution.orders ")]
    assert [s.count("), (") + 1 for s in orders] == [64, 6], [s[:300] for s in orders]
    # The leaked-code rule's totals read once per code and minute of placement (56 seconds: one or
    # two minutes), not per order.
    assert 1 <= counted.count("SELECT anon_1.mine") <= 2
    # (a table's pages one after the other count as one write)
    inserts = [table for table, _ in itertools.groupby(
        s.split(" (")[0] for s in counted.seen if s.startswith("INSERT INTO attribution."))]
    decided = False
    for statement in inserts:  # each flush's entries come after its decisions
        if statement.endswith(".order_credits"):
            decided = True
        elif statement.endswith(".ledger_entries"):
            assert decided, inserts
            decided = False
    async with sessions() as session:
        tenancy.bind_tenant(session, tenant.tenant_id)
        ledger = (await session.execute(select(LedgerEntry.order_id, LedgerEntry.amount)
                                        .where(LedgerEntry.order_id.in_([str(i) for i in ids])))).all()
    assert sorted(order_id for order_id, _ in ledger) == sorted(str(i) for i in ids)
    assert all(amount > 0 for _, amount in ledger)


async def test_an_erasure_in_a_batch_spares_the_orders_that_arrive_after_it(gateway, tenant, sessions, attribution_engine):
    """A store's customers/redact between two orders of its customer in one batch: the order before
    it is erased, the one after it is kept, as one by one — the batch inserts new orders ahead of
    their turn only up to its first privacy delivery (orders/handlers.py)."""
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    base, run = datetime.now(UTC) + timedelta(minutes=2), uuid.uuid4().hex[:6]
    email = f"erased-{run}@example.com"
    before, after, other = new_order_id(), new_order_id(), new_order_id()
    redact = {"shop_id": 954889, "shop_domain": source.shop_domain, "customer": {"id": 7100000000042, "email": email,
              "phone": None}, "orders_to_redact": [before]}
    deliveries = [("", "orders/create", _order(before, code, email, base)),
                  ("", "orders/create", _order(other, code, f"kept-{run}@example.com", base + timedelta(seconds=1))),
                  ("", "customers/redact", redact),
                  ("", "orders/create", _order(after, code, email, base + timedelta(seconds=2)))]
    counted = await _apply(sessions, attribution_engine, tenant.tenant_id, source, deliveries, batched=True)
    async with sessions() as session:
        tenancy.bind_tenant(session, tenant.tenant_id)
        keys = dict((await session.execute(select(PartnerOrder.order_id, PartnerOrder.customer_key).where(
            PartnerOrder.order_id.in_([str(before), str(after), str(other)])))).all())
    assert keys[str(before)] is None
    assert keys[str(after)] is not None and keys[str(other)] is not None
    # The two before the erasure went together; the one after it, at its turn.
    assert counted.count("INSERT INTO attribution.orders ") == 2
