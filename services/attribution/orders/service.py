"""Verified partner deliveries (`gateway.webhook.v1`) into orders, refunds and cancellations.

Each message is stored once, keyed by what the partner calls it: an order by (source, webhook
source, order id), a refund by its order and refund id, a cancellation by its order id. A delivery seen
again (the consumer's processed-event record already stops the same Kafka event; this stops the
same message delivered twice by the partner) changes nothing; an order update older than the one
kept (`updated_at`) does not overwrite it; a refund or cancellation that arrives before its order
is kept and counted when the order arrives. After every message the order's commission basis is
computed again from the order and everything that has arrived for it (orders/basis.py), so the
end state does not depend on the order of arrival.

A message attribution cannot read is refused whole (PayloadError → the consumer dead-letters it
with the field and the reason); nothing of it is written.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.clicks import recovery
from services.attribution.config import CLICK_RETENTION_DAYS
from services.attribution.orders import batch, generic, shopify
from services.attribution.orders.basis import commission_basis
from services.attribution.orders.model import (
    Cancellation, CustomerKey, LineItem, Order, PayloadError, Refund, RefundLine,
)
from services.attribution.orders.models import NO_SOURCE, PartnerCancellation, PartnerOrder, PartnerRefund
from services.attribution.privacy import service as privacy, shopify as privacy_webhooks
from shared.clicks import token as click_token
from shared.contracts.gateway import WebhookReceived
from shared.money import format_amount
from shared.tenancy import acting_for, bound_tenant, built_once


@dataclasses.dataclass(frozen=True)
class Applied:
    """What a delivery did: `kind` order/refund/cancellation/ignored, and the order it concerns."""

    kind: str
    order_id: str | None = None


def parse(delivery: WebhookReceived, customer_key: CustomerKey):
    """The parsed message of a delivery, None for a topic that is not about orders; raises PayloadError."""
    if delivery.source == "shopify":
        return shopify.parse(delivery.topic, delivery.body, customer_key)
    return generic.parse(delivery.body, customer_key)


def is_privacy(delivery: WebhookReceived) -> bool:
    """One of a store's mandatory privacy webhooks (not an order, a refund or a cancellation)."""
    return delivery.source == "shopify" and delivery.topic in privacy_webhooks.TOPICS


def carried_clicks(order: Order, token_key: bytes | None) -> tuple[Order, list[click_token.ClickToken]]:
    """The order with each click id this installation made (shared/clicks/token.py) stored as the
    click it names — what `orders.click_ids` holds and every reader matches clicks by — and those
    click ids opened (what `clicks/recovery.py` may record a click from). Any other value is kept
    as it came."""
    ids, opened = [], []
    for value in order.click_ids:
        token = click_token.read(token_key, value)
        if token is not None:
            opened.append(token)
        ids.append(str(token.click_id) if token is not None else value)
    return dataclasses.replace(order, click_ids=tuple(dict.fromkeys(ids))), opened


async def apply_delivery(
    session: AsyncSession, tenant_id: uuid.UUID | None, delivery: WebhookReceived, customer_key: CustomerKey,
    token_key: bytes | None = None, retention_days: int = CLICK_RETENTION_DAYS,
) -> Applied:
    """A verified partner delivery applied: its order, refund or cancellation stored and the
    order credited again. `token_key` opens the click ids an order carries (shared/clicks/
    token.py): a click not stored is recorded from its id first (clicks/recovery.py), unless it is
    older than `retention_days` (what the retention job keeps a click's visitor data for)."""
    if tenant_id is None:
        raise PayloadError("tenant_id", "the delivery names no tenant")
    if is_privacy(delivery):
        # A store's mandatory privacy webhooks: the same erasure or export as an API request.
        request = privacy_webhooks.request_of(delivery)
        await privacy.act(session, tenant_id, request, customer_key)
        batch.forget_customers(session)
        return Applied("privacy", None)
    parsed = batch.parsed_of(session, delivery)
    if parsed is batch.UNKNOWN:
        parsed = parse(delivery, customer_key)
    if parsed is None:
        return Applied("ignored")
    source_id = delivery.source_id or NO_SOURCE
    message = parsed.message
    with acting_for(session, tenant_id):
        fresh, before = None, None
        if isinstance(message, Order):
            message, opened = carried_clicks(message, token_key)
            fresh = batch.take_inserted(session, delivery)  # inserted with the batch's other new orders
            if fresh is not None:
                batch.order_placed(session, tenant_id, fresh.customer_key, fresh.placed_at, fresh.test)
            else:
                fresh, before = await _store_order(session, tenant_id, source_id, message, list(parsed.notes),
                                                   delivery.delivery_id)
            await recovery.recover(session, opened, retention_days)
            for refund in message.refunds:
                await _store_refund(session, tenant_id, source_id, refund, delivery.delivery_id)
            if message.refunds:
                fresh = None  # its refunds are read back with the others
            kind = "order"
        elif isinstance(message, Refund):
            await _store_refund(session, tenant_id, source_id, message, delivery.delivery_id)
            kind = "refund"
        else:
            await _store_cancellation(session, tenant_id, source_id, message, delivery.delivery_id)
            kind = "cancellation"
        await recompute(session, message.source, source_id, message.order_id, fresh=fresh,
                        edit=(before, delivery.delivery_id) if before is not None else None)
    return Applied(kind, message.order_id)


_LINE_FIELDS = tuple(field.name for field in dataclasses.fields(LineItem))


def _line_json(line: LineItem) -> dict:
    # Its fields are plain values (dataclasses.asdict's deep copy of each took ~2 % of the consumer)
    return {name: getattr(line, name) for name in _LINE_FIELDS} | {"collections": list(line.collections)}


# Statements of every order, built once with bind parameters (docs/decisions/0057).
def _kept_ahead_statement():
    source, source_id, order_id = bindparam("source"), bindparam("source_id"), bindparam("order_id")
    refund = select(PartnerRefund.id).where(PartnerRefund.source == source, PartnerRefund.source_id == source_id,
                                            PartnerRefund.order_id == order_id)
    cancellation = select(PartnerCancellation.id).where(
        PartnerCancellation.source == source, PartnerCancellation.source_id == source_id,
        PartnerCancellation.order_id == order_id)
    return select(exists(refund) | exists(cancellation))


_KEPT_AHEAD = built_once(_kept_ahead_statement())


def _order_values(order: Order, notes: list[str], delivery_id: str) -> dict:
    return {
        "placed_at": order.placed_at, "currency": order.currency, "lines": [_line_json(line) for line in order.lines],
        "subtotal_minor": order.subtotal_minor, "discounts_minor": order.discounts_minor, "tax_minor": order.tax_minor,
        "shipping_minor": order.shipping_minor, "total_minor": order.total_minor, "taxes_included": order.taxes_included,
        "customer_key": order.customer_key, "codes": list(order.codes), "click_ids": list(order.click_ids),
        "landing_site": order.landing_site, "referring_site": order.referring_site,
        "financial_status": order.financial_status, "test": order.test, "notes": notes,
        "shipping_country": order.shipping_country, "shipping_region": order.shipping_region,
        "partner_updated_at": order.updated_at, "last_delivery_id": delivery_id,
    }


def _new_row(tenant_id: uuid.UUID, source_id: uuid.UUID, order: Order, values: dict) -> dict:
    """The order's row when it is new: inserted as it stands when nothing else arrived for it
    before (recompute then changes nothing). The basis rules are stamped here, once: an update of
    the order never changes them (basis.py)."""
    return {"id": uuid.uuid4(), "tenant_id": tenant_id, "source": order.source, "source_id": source_id,
            "order_id": order.order_id, "basis_rules": order.basis_rules,
            **_standing(order, [], [], order.cancelled_at), **values}


def new_order_rows(token_key: bytes | None):
    """What `batch.prepare` inserts for a delivery whose order is new: the row `_store_order`
    would insert at its turn, from the same parse (orders/batch.py `INSERT_ORDER`)."""
    def row_of(tenant_id: uuid.UUID, delivery: WebhookReceived, parsed) -> dict:
        order, _ = carried_clicks(parsed.message, token_key)
        return _new_row(tenant_id, delivery.source_id or NO_SOURCE, order,
                        _order_values(order, list(parsed.notes), delivery.delivery_id))
    return row_of


async def _store_order(session: AsyncSession, tenant_id: uuid.UUID, source_id: uuid.UUID, order: Order,
                       notes: list[str], delivery_id: str) -> tuple[PartnerOrder | None, Order | None]:
    """The order stored: (the new row, locked by this transaction, None) when it was not there
    before, else (None, the order as it stood before) once the kept row has taken what is newer
    (None for the order when it took nothing: an older update)."""
    values = _order_values(order, notes, delivery_id)
    row = _new_row(tenant_id, source_id, order, values)
    with session.no_autoflush:  # a new row of its own table: nothing waiting in the session changes it (batch.flush)
        inserted = (await session.scalars(batch.INSERT_ORDER, [row])).first()
    if inserted is not None:
        batch.order_placed(session, tenant_id, inserted.customer_key, inserted.placed_at, inserted.test)
        return inserted, None
    existing = (await session.execute(
        select(PartnerOrder).where(PartnerOrder.source == order.source, PartnerOrder.source_id == source_id,
                                   PartnerOrder.order_id == order.order_id).with_for_update())).scalar_one()
    # Once cancelled, an order stays cancelled, at its first cancellation time.
    if order.cancelled_at is not None and (existing.cancelled_at is None or order.cancelled_at < existing.cancelled_at):
        existing.cancelled_at = order.cancelled_at
    if _older(order.updated_at, existing.partner_updated_at):
        return None, None  # an update older than the one kept (out of order): its data is not newer
    if order.currency != existing.currency:
        raise PayloadError("currency", f"the order was {existing.currency} and is now {order.currency}")
    batch.customer_changed(session, tenant_id, {existing.customer_key, order.customer_key})
    before = order_of(existing)
    for name, value in values.items():
        setattr(existing, name, value)
    return None, before


# A refund is one per (order, refund id): partners may number refunds per order (migration 0031).
# Named by its columns, not its constraint's name, so the statement does not depend on the name.
REFUND_KEY = ["tenant_id", "source", "source_id", "order_id", "refund_id"]


def _older(incoming: datetime | None, kept: datetime | None) -> bool:
    return incoming is not None and kept is not None and incoming < kept


async def _store_refund(session: AsyncSession, tenant_id: uuid.UUID, source_id: uuid.UUID, refund: Refund,
                        delivery_id: str) -> None:
    batch.kept_ahead(session, tenant_id, (refund.source, source_id, refund.order_id))
    await session.execute(insert(PartnerRefund).on_conflict_do_nothing(index_elements=REFUND_KEY), [{
        "id": uuid.uuid4(), "tenant_id": tenant_id, "source": refund.source, "source_id": source_id,
        "order_id": refund.order_id, "refund_id": refund.refund_id, "refunded_at": refund.created_at,
        "currency": refund.currency, "lines": [dataclasses.asdict(line) for line in refund.lines],
        "shipping_minor": refund.shipping_minor, "adjustment_minor": refund.adjustment_minor, "note": refund.note,
        "delivery_id": delivery_id,
    }])


async def _store_cancellation(session: AsyncSession, tenant_id: uuid.UUID, source_id: uuid.UUID,
                              cancellation: Cancellation, delivery_id: str) -> None:
    batch.kept_ahead(session, tenant_id, (cancellation.source, source_id, cancellation.order_id))
    await session.execute(
        insert(PartnerCancellation).on_conflict_do_nothing(constraint="uq_order_cancellations_partner_order"), [{
            "id": uuid.uuid4(), "tenant_id": tenant_id, "source": cancellation.source, "source_id": source_id,
            "order_id": cancellation.order_id, "cancelled_at": cancellation.cancelled_at, "reason": cancellation.reason,
            "delivery_id": delivery_id,
        }])


def order_of(row: PartnerOrder) -> Order:
    """The stored order as the model basis.py reads."""
    lines = tuple(LineItem(**{**line, "collections": tuple(line.get("collections") or ())}) for line in row.lines)
    return Order(source=row.source, order_id=row.order_id, placed_at=row.placed_at, currency=row.currency, lines=lines,
                 subtotal_minor=row.subtotal_minor, discounts_minor=row.discounts_minor, tax_minor=row.tax_minor,
                 shipping_minor=row.shipping_minor, total_minor=row.total_minor, taxes_included=row.taxes_included,
                 basis_rules=row.basis_rules)


def refund_of(row: PartnerRefund) -> Refund:
    return Refund(source=row.source, order_id=row.order_id, refund_id=row.refund_id, created_at=row.refunded_at,
                  currency=row.currency, lines=tuple(RefundLine(**line) for line in row.lines),
                  shipping_minor=row.shipping_minor, adjustment_minor=row.adjustment_minor, note=row.note)


async def refunds_for(session, source: str, source_id: uuid.UUID, order_id: str) -> list[PartnerRefund]:
    return list((await session.execute(
        select(PartnerRefund).where(PartnerRefund.source == source, PartnerRefund.source_id == source_id,
                                    PartnerRefund.order_id == order_id)
        .order_by(PartnerRefund.refunded_at, PartnerRefund.refund_id))).scalars())


async def _kept_ahead(session: AsyncSession, source: str, source_id: uuid.UUID, order_id: str) -> bool:
    """Whether a refund or a cancellation of the order arrived before it (one statement, or none
    when the batch knows: orders/batch.py)."""
    state = batch.key_state(session, bound_tenant(session), (source, source_id, order_id))
    if state is not None:
        return state.ahead
    return bool((await session.execute(
        _KEPT_AHEAD, {"source": source, "source_id": source_id, "order_id": order_id})).scalar())


def _standing(order: Order, usable: list[Refund], skipped: list[str], cancelled_at: datetime | None) -> dict:
    """The order's state and commission basis, with how it was computed, from the order, its
    refunds in its currency (the others' ids `skipped`) and when it was first cancelled."""
    basis = commission_basis(order, usable)
    explanation = basis.explanation
    if skipped:
        explanation += f" Refunds in another currency than the order's were not counted: {', '.join(skipped)}."
    if cancelled_at is not None:
        state, amount = "cancelled", 0
        # The UTC day, whatever offset the partner sent (a stored time comes back in UTC)
        explanation += f" Cancelled on {cancelled_at.astimezone(UTC).date().isoformat()}: basis 0 {order.currency}."
    else:
        state, amount = "open", basis.amount_minor
    return {"cancelled_at": cancelled_at, "state": state, "basis_minor": amount,
            "basis_before_refunds_minor": basis.before_refunds_minor, "basis_explanation": explanation}


async def recompute(session: AsyncSession, source: str, source_id: uuid.UUID, order_id: str, *,
                    fresh: PartnerOrder | None = None, edit: tuple[Order, str] | None = None) -> None:
    """The order's state and commission basis from the order and everything kept for it.
    `fresh`: the order's row, inserted by this transaction just now (so locked by it already);
    `edit`: the order as it stood before this delivery updated it, and the delivery's id."""
    row = fresh
    if row is None:
        row = (await session.execute(
            select(PartnerOrder).where(PartnerOrder.source == source, PartnerOrder.source_id == source_id,
                                       PartnerOrder.order_id == order_id).with_for_update())).scalar_one_or_none()
    if row is None:
        return  # a refund or cancellation ahead of its order: counted when the order arrives
    refunds, cancellation = [], None
    as_inserted = fresh is not None and not await _kept_ahead(session, source, source_id, order_id)
    if not as_inserted:
        refunds = await refunds_for(session, source, source_id, order_id)
        cancellation = (await session.execute(
            select(PartnerCancellation).where(
                PartnerCancellation.source == source, PartnerCancellation.source_id == source_id,
                PartnerCancellation.order_id == order_id))).scalar_one_or_none()
    usable = [refund_of(r) for r in refunds if r.currency == row.currency]
    skipped = [r.refund_id for r in refunds if r.currency != row.currency]
    order = order_of(row)
    if not as_inserted:  # else its standing is the one it was inserted with (`_new_row`)
        cancelled_at = min((t for t in (row.cancelled_at, cancellation.cancelled_at if cancellation else None) if t),
                           default=None)
        for name, value in _standing(order, usable, skipped, cancelled_at).items():
            if getattr(row, name) != value:  # an attribute set to what it holds would still be written
                setattr(row, name, value)
    # Who earned it and what the ledger owes (crediting/service.py, settlement.py): decided once,
    # then settled again from that decision after every message.
    from services.attribution.crediting import settlement

    await settlement.settle(session, row, order, usable, fresh=fresh is not None,
                            settled=frozenset(r.refund_id for r in refunds if r.settled), edit=edit)
    # Every refund counted is now settled, whether it took anything or not (settlement.py).
    for refund in refunds:
        if refund.currency == row.currency and not refund.settled:
            refund.settled = True


def amount_text(minor: int | None, currency: str) -> str | None:
    return None if minor is None else format_amount(minor, currency)
