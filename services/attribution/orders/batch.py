"""What a batch of partner deliveries asks the database for, asked once for the whole batch, and
what it only adds up, written once at its end (docs/decisions/0063). Before the consumer applies a
batch's deliveries one by one, `prepare` reads, per tenant, in four statements in all,

- which of the batch's orders have a refund or a cancellation kept ahead of them (orders/service.py:
  a new order with nothing kept ahead is credited as it stands);
- the discount codes the batch's orders carry (crediting/touches.py), loaded into the session so
  that a code's use count, which crediting raises, stays the one object every order reads;
- for each customer of the batch's orders, when their earliest stored (non-test) order was placed
  (crediting's "is this the customer's first order?").

The answers live in the transaction's memo (shared.db.transaction_memo) and are kept true by the
batch's own writes as it goes: a refund or a cancellation kept, an order stored or its placement
moved. A question the memo cannot answer exactly (a key, code or customer it was not
asked about, or a customer whose stored order this batch changed) is asked of the database as
before, so the memo is a shortcut, never a second source of truth.

`prepare` also inserts the batch's new orders, in one statement (`_insert_new_orders`): each
delivery takes its row at its turn instead of inserting it then.

`finish`, after the last delivery and before the commit, writes what the batch deferred: its new
rows (decisions, reviews, ledger entries: one INSERT per table), the conversion events, the
creators' day totals, the code-hour and code-minute totals and the codes' use counts (`Deferred`).

Why it is safe to answer from what was read at the start of the batch: a source's deliveries are
one Kafka partition's (the gateway keys them by source), applied in order by one consumer, so no
other transaction stores an order, refund or cancellation of this batch's keys meanwhile. A code
or an order of another source committed by another transaction during the batch is seen by the
next batch, as one committed just after an order's own read is today.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from sqlalchemy import String, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from services.attribution.codes.models import Code
from services.attribution.orders.model import Cancellation, Order, PayloadError, Refund
from services.attribution.orders.models import NO_SOURCE, PartnerCancellation, PartnerOrder, PartnerRefund
from shared.db import transaction_memo
from shared.tenancy import acting_for

OrderKey = tuple[str, uuid.UUID, str]  # (format, webhook source, the partner's order id)
UNKNOWN = _UNKNOWN = object()  # what the batch cannot answer: ask the database

_PARSED = "attribution.batch.parsed"
_KEYS = "attribution.batch.order_keys"
_CODES = "attribution.batch.codes"
_CUSTOMERS = "attribution.batch.customers"
_CODES_BY_ID = "attribution.batch.codes_by_id"
_DEFERRED = "attribution.batch.deferred"
_INSERTED = "attribution.batch.inserted"  # id(delivery) -> (delivery, its order's row inserted by prepare)
_PENDING = "attribution.batch.pending_orders"  # order id -> row: inserted by prepare, its delivery not applied yet

# A new order's row (orders/service.py), returned whole: the unit of work keeps it (and its lock).
INSERT_ORDER = insert(PartnerOrder).on_conflict_do_nothing(constraint="uq_orders_partner_order").returning(PartnerOrder)


@dataclasses.dataclass
class KeyState:
    ahead: bool  # a refund or a cancellation of the order is kept


def parsed_of(session: AsyncSession, delivery) -> object:
    """The parse `prepare` kept for this very delivery object (None: not about orders), or
    `UNKNOWN` when it kept none."""
    kept = transaction_memo(session, _PARSED).get(id(delivery))
    return kept[1] if kept is not None and kept[0] is delivery else _UNKNOWN


async def prepare(session: AsyncSession, deliveries: list[tuple[uuid.UUID | None, object]], parse,
                  new_order_row=None, insert_before: int | None = None) -> None:
    """Read the batch's answers (module docstring). `deliveries`: (tenant, WebhookReceived) in
    the batch's order; `parse(delivery)` returns its parsed message (or None), raising
    PayloadError for one that cannot be read: that one is left for its own application to refuse.
    With `new_order_row(tenant, delivery, parsed)`, the new orders of the first `insert_before`
    deliveries (all when None) are inserted now, together (`_insert_new_orders`)."""
    parsed_memo = transaction_memo(session, _PARSED)
    transaction_memo(session, _DEFERRED)["writes"] = Deferred()
    by_tenant: dict[uuid.UUID, list] = {}
    for index, (tenant_id, delivery) in enumerate(deliveries):
        if tenant_id is None:
            continue
        try:
            parsed = parse(delivery)
        except PayloadError:
            continue
        parsed_memo[id(delivery)] = (delivery, parsed)
        if parsed is not None:
            insertable = new_order_row is not None and (insert_before is None or index < insert_before)
            by_tenant.setdefault(tenant_id, []).append((delivery, parsed, insertable))
    for tenant_id, messages in by_tenant.items():
        with acting_for(session, tenant_id):
            await _prepare_tenant(session, tenant_id, [(delivery, parsed.message) for delivery, parsed, _ in messages])
            await _insert_new_orders(session, tenant_id, messages, new_order_row)


async def _prepare_tenant(session: AsyncSession, tenant_id: uuid.UUID, messages: list) -> None:
    keys: set[OrderKey] = set()
    codes: set[str] = set()
    customers: set[str] = set()
    for delivery, message in messages:
        if not isinstance(message, (Order, Refund, Cancellation)):
            continue
        keys.add((message.source, delivery.source_id or NO_SOURCE, message.order_id))
        if isinstance(message, Order):
            codes.update(c.upper() for c in message.codes)
            if message.customer_key is not None:
                customers.add(message.customer_key)
    if keys:
        states = transaction_memo(session, _KEYS)
        for key in keys:
            states[(tenant_id, *key)] = KeyState(ahead=False)
        # Plain statements: each filtered by the tenant as any other (a UNION would not be).
        for model in (PartnerRefund, PartnerCancellation):
            for key in await _keys_found(session, model, keys):
                states[(tenant_id, *key)].ahead = True
    if codes:
        known, by_id = transaction_memo(session, _CODES), transaction_memo(session, _CODES_BY_ID)
        found = {code.code.upper(): code
                 for code in (await session.execute(select(Code).where(
                     func.upper(Code.code) == any_(bindparam("codes", sorted(codes), type_=ARRAY(String)))))).scalars()}
        for upper in codes:
            known[(tenant_id, upper)] = found.get(upper)
        for code in found.values():
            by_id[(tenant_id, code.id)] = code
    if customers:
        earliest = transaction_memo(session, _CUSTOMERS)
        found = dict((await session.execute(
            select(PartnerOrder.customer_key, func.min(PartnerOrder.placed_at))
            .where(PartnerOrder.customer_key == any_(bindparam("customers", sorted(customers), type_=ARRAY(String))),
                   PartnerOrder.test.is_(False))
            .group_by(PartnerOrder.customer_key))).all())
        for key in customers:
            earliest[(tenant_id, key)] = found.get(key)


async def _insert_new_orders(session: AsyncSession, tenant_id: uuid.UUID, messages: list, new_order_row) -> None:
    """Insert, in one statement, the row of each order delivery that is the batch's first message
    of its key, where the key has no order yet (ON CONFLICT DO NOTHING); `take_inserted` hands the
    row to its delivery at its turn, instead of an INSERT there (one round trip an order).

    Inserted ahead, an order is in its table before the deliveries between prepare and its turn
    are applied. Which of them could read it: a message of its key (none comes before it: it is
    its key's first), a customer's earlier orders (`pending_orders` names the rows whose turn has
    not come, for the one statement that asks: crediting/service.py `_new_customer`; the customers'
    memo above was read before this insert), and a privacy erasure (the handler passes
    `insert_before` = the batch's first privacy delivery: no order after it is inserted ahead).
    Nothing else in the order path reads orders but by their key."""
    seen: set[OrderKey] = set()
    rows, owners = [], {}
    for delivery, parsed, insertable in messages:
        message = parsed.message
        if not isinstance(message, (Order, Refund, Cancellation)):
            continue
        key = (message.source, delivery.source_id or NO_SOURCE, message.order_id)
        if key in seen:
            continue
        seen.add(key)
        if insertable and isinstance(message, Order):
            rows.append(new_order_row(tenant_id, delivery, parsed))
            owners[key] = delivery
    if not rows:
        return
    inserted = transaction_memo(session, _INSERTED)
    pending = transaction_memo(session, _PENDING)
    with session.no_autoflush:
        for row in (await session.scalars(INSERT_ORDER, rows)).all():
            delivery = owners[(row.source, row.source_id, row.order_id)]
            inserted[id(delivery)] = (delivery, row)
            pending[row.id] = row


def take_inserted(session: AsyncSession, delivery) -> PartnerOrder | None:
    """The order row `prepare` inserted for this very delivery (once), or None: insert it now."""
    kept = transaction_memo(session, _INSERTED).pop(id(delivery), None)
    if kept is None or kept[0] is not delivery:
        return None
    transaction_memo(session, _PENDING).pop(kept[1].id, None)
    return kept[1]


def pending_orders(session: AsyncSession) -> list[uuid.UUID]:
    """The orders `prepare` inserted whose delivery has not been applied yet: not there yet for
    anything that reads orders by customer."""
    return list(transaction_memo(session, _PENDING))


async def _keys_found(session: AsyncSession, model, keys: set[OrderKey]) -> set[OrderKey]:
    """Those of `keys` with a row of `model`: one statement of three arrays, whatever the batch's
    size (each column's values; the row's key matched here), on the (tenant, source, source id,
    order id) index every such table has."""
    sources, source_ids, order_ids = (sorted({key[i] for key in keys}, key=str) for i in range(3))
    found = await session.execute(
        select(model.source, model.source_id, model.order_id)
        .where(model.source == any_(bindparam("sources", sources, type_=ARRAY(String))),
               model.source_id == any_(bindparam("source_ids", source_ids, type_=ARRAY(UUID(as_uuid=True)))),
               model.order_id == any_(bindparam("order_ids", order_ids, type_=ARRAY(String)))))
    return {tuple(row) for row in found.all()} & keys


# -- the batch's answers, kept true by its own writes ------------------------------------------------
def key_state(session: AsyncSession, tenant_id: uuid.UUID, key: OrderKey) -> KeyState | None:
    """The key's state as the batch knows it, or None when `prepare` was not asked about it."""
    return transaction_memo(session, _KEYS).get((tenant_id, *key))


def kept_ahead(session: AsyncSession, tenant_id: uuid.UUID, key: OrderKey) -> None:
    """A refund or a cancellation of the key was kept (whether its row was new or not)."""
    state = key_state(session, tenant_id, key)
    if state is not None:
        state.ahead = True


def code(session: AsyncSession, tenant_id: uuid.UUID, upper: str):
    """The tenant's code of that name (upper case) as the batch loaded it, None when there is none,
    `UNKNOWN` when `prepare` did not look it up."""
    return transaction_memo(session, _CODES).get((tenant_id, upper), _UNKNOWN)


def earliest_order(session: AsyncSession, tenant_id: uuid.UUID, customer_key: str):
    """When the customer's earliest stored non-test order was placed (None: they have none), or
    `UNKNOWN` when the batch cannot say exactly."""
    return transaction_memo(session, _CUSTOMERS).get((tenant_id, customer_key), _UNKNOWN)


def order_placed(session: AsyncSession, tenant_id: uuid.UUID, customer_key: str | None, placed_at: datetime,
                 test: bool) -> None:
    """A new order of the customer was stored by the batch."""
    if customer_key is None or test:
        return
    earliest = transaction_memo(session, _CUSTOMERS)
    known = earliest.get((tenant_id, customer_key), _UNKNOWN)
    if known is _UNKNOWN:
        return
    if known is None or placed_at < known:
        earliest[(tenant_id, customer_key)] = placed_at


def forget_customers(session: AsyncSession) -> None:
    """The batch changed customers' orders wholesale (a privacy erasure): it answers for none."""
    transaction_memo(session, _CUSTOMERS).clear()


def customer_changed(session: AsyncSession, tenant_id: uuid.UUID, customer_keys: set[str | None]) -> None:
    """A stored order of these customers was changed (its placement, test flag or customer may
    have moved): the batch no longer answers for them."""
    earliest = transaction_memo(session, _CUSTOMERS)
    for key in customer_keys:
        if key is not None:
            earliest.pop((tenant_id, key), None)


# -- the batch's deferred writes ------------------------------------------------------------------
@dataclasses.dataclass
class Deferred:
    """Writes the batch makes once, at its end (`finish`), instead of once per order: each is an
    addition (to a total, a count or the outbox), so adding up first changes no result, and their
    readers in the batch add what is waiting here (crediting/totals.py `rule_inputs`)."""

    events: list[tuple[str, object]] = dataclasses.field(default_factory=list)  # (topic, envelope), in order
    # (tenant, creator, currency) -> (day, campaign) -> [orders, revenue, commission] to add: by the
    # creator its readers ask about (crediting/totals.py), so each reads its own, not the batch's
    day_totals: dict[tuple, dict[tuple, list[int]]] = dataclasses.field(default_factory=dict)
    code_uses: dict[tuple[uuid.UUID, uuid.UUID], int] = dataclasses.field(default_factory=dict)  # (tenant, code id)
    # (tenant, campaign) -> (creator, code key, hour, country) -> [orders, without click, new customers]
    # to add: by the campaign the leaked-code rule asks about (fraud/service.py)
    hour_totals: dict[tuple, dict[tuple, list[int]]] = dataclasses.field(default_factory=dict)
    # the same per minute: (tenant, campaign) -> (creator, code key, minute, country) -> [...]
    minute_totals: dict[tuple, dict[tuple, list[int]]] = dataclasses.field(default_factory=dict)
    # What the database said of a creator's totals (crediting/totals.py `rule_inputs`), by question:
    # unchanged until the batch's end, whose own additions wait above.
    totals_read: dict[tuple, tuple[int, int]] = dataclasses.field(default_factory=dict)


def deferred(session: AsyncSession) -> Deferred | None:
    """The batch's deferred writes, or None where writes are made as they come (no `prepare` ran
    in this transaction). A savepoint inside a batch that defers is refused: what it wrote at once
    and what waits for the batch's end would each miss the other."""
    if session.get_nested_transaction() is not None:
        memos = session.info.get(_DEFERRED) or {}
        if (memos.get(session.get_transaction()) or {}).get("writes") is not None:
            raise RuntimeError("an order batch defers its totals and events to its end: open no savepoint inside it")
        return None
    return transaction_memo(session, _DEFERRED).get("writes")


def add_event(session: AsyncSession, topic: str, envelope) -> bool:
    """Keep an outbox event for the batch's end; False when it must be written now."""
    writes = deferred(session)
    if writes is None:
        return False
    writes.events.append((topic, envelope))
    return True


def add_to_day_total(session: AsyncSession, key: tuple, orders: int, revenue: int, commission: int) -> bool:
    """Add to a creator's day total (`key`: tenant, creator, currency, day, campaign) at the
    batch's end; False when it must be written now."""
    writes = deferred(session)
    if writes is None:
        return False
    tenant_id, creator_id, currency, day, campaign_id = key
    _add(writes.day_totals.setdefault((tenant_id, creator_id, currency), {}), (day, campaign_id),
         (orders, revenue, commission))
    return True


def _add(totals: dict[tuple, list[int]], key: tuple, amounts: tuple[int, ...]) -> None:
    kept = totals.setdefault(key, [0] * len(amounts))
    for i, amount in enumerate(amounts):
        kept[i] += amount


def add_to_code_totals(session: AsyncSession, row: dict) -> bool:
    """Add a credited order to its code-hour and code-minute totals (fraud/service.py
    `count_credited`'s row) at the batch's end; False when they must be written now."""
    writes = deferred(session)
    if writes is None:
        return False
    for totals, span in ((writes.hour_totals, "hour"), (writes.minute_totals, "minute")):
        _add(totals.setdefault((row["tenant_id"], row["campaign_id"]), {}),
             (row["creator_id"], row["code_key"], row[span], row["country"]),
             (row["orders"], row["without_click"], row["new_customers"]))
    return True


async def flush(session: AsyncSession) -> None:
    """Flush the session now, unless the batch defers: its new rows (decisions, reviews, ledger
    entries) are then written together — one INSERT per table — by the next statement that reads
    with autoflush, or at the batch's end (`finish`). The order path's two statements that run for
    every order read nothing those rows change (the order's own INSERT, the leaked-code rule's
    totals), so they run without autoflush. The unit of work writes the decisions before the
    ledger entries (nothing relates their mappers; it orders them by module): the report trigger
    on a decision whose order has entries already does far more (migration 0022), which is why
    the orders themselves are never left pending in the session — a pending order, which its
    decision depends on, put the entries first; `prepare` inserts them by a statement of their own
    (tests/attribution/test_orders_batch_prepared.py checks the order)."""
    if deferred(session) is None:
        await session.flush()


def use_code(session: AsyncSession, tenant_id: uuid.UUID, code_id: uuid.UUID) -> bool:
    """Count a use of a code the batch loaded: on its object now (the next order reads it there)
    and in the database at the batch's end. False when the batch did not load it: update it now."""
    writes = deferred(session)
    code = transaction_memo(session, _CODES_BY_ID).get((tenant_id, code_id))
    if writes is None or code is None:
        return False
    # Not a change for the unit of work to write: the database gets `uses + n` at the end.
    set_committed_value(code, "uses", code.uses + 1)
    writes.code_uses[(tenant_id, code_id)] = writes.code_uses.get((tenant_id, code_id), 0) + 1
    return True


async def finish(session: AsyncSession, outbox) -> None:
    """Write what the batch deferred: its new rows, its outbox events (one statement per topic, each
    aggregate's in order), its day, code-hour and code-minute totals (one statement each per tenant)
    and its codes' use counts."""
    from services.attribution.crediting.totals import ADD_TO_TOTALS
    from services.attribution.fraud.service import COUNT_CREDITED, COUNT_CREDITED_MINUTES

    writes = transaction_memo(session, _DEFERRED).pop("writes", None)
    if writes is None:
        return
    await session.flush()  # the batch's new rows not written yet (`flush`), before what refers to them
    by_topic: dict[str, list] = {}
    for topic, envelope in writes.events:
        by_topic.setdefault(topic, []).append(envelope)
    for topic, envelopes in by_topic.items():
        await outbox.add_all(session, topic, envelopes)
    by_tenant: dict[uuid.UUID, list[dict]] = {}
    for (tenant_id, creator_id, currency), days in writes.day_totals.items():
        by_tenant.setdefault(tenant_id, []).extend({
            "tenant_id": tenant_id, "creator_id": creator_id, "currency": currency, "day": day,
            "campaign_id": campaign_id, "orders": orders, "revenue_minor": revenue, "commission_minor": commission}
            for (day, campaign_id), (orders, revenue, commission) in days.items())
    for tenant_id, rows in by_tenant.items():
        with acting_for(session, tenant_id):
            await session.execute(ADD_TO_TOTALS, rows)
    for totals, span, statement in ((writes.hour_totals, "hour", COUNT_CREDITED),
                                    (writes.minute_totals, "minute", COUNT_CREDITED_MINUTES)):
        spans: dict[uuid.UUID, list[dict]] = {}
        for (tenant_id, campaign_id), counts in totals.items():
            spans.setdefault(tenant_id, []).extend({
                "tenant_id": tenant_id, "campaign_id": campaign_id, "creator_id": creator_id, "code_key": code_key,
                span: at, "country": country, "orders": orders, "without_click": without, "new_customers": new}
                for (creator_id, code_key, at, country), (orders, without, new) in counts.items())
        for tenant_id, rows in spans.items():
            with acting_for(session, tenant_id):
                await session.execute(statement, rows)
    for (tenant_id, code_id), uses in sorted(writes.code_uses.items(), key=lambda item: str(item[0][1])):
        with acting_for(session, tenant_id):
            await session.execute(update(Code).where(Code.id == code_id).values(uses=Code.uses + uses)
                                  .execution_options(synchronize_session=False))
