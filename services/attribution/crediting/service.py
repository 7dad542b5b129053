"""From a stored order to money: which creator earned it (credit.py), under which commission rule
version (rules/), and the ledger entries — a commission when the order is first credited, a
clawback per refund and on cancellation.

The decision is taken once, when the order is first stored, and kept (`order_credits`): the
touch that won, the rule version in force when the order was placed, and the inputs the rule
needs (the creator's attributed revenue in the rule's window, whether the customer is new,
what the creator earned this month). Everything after — a refund, an update, a replay — is
computed again from that decision, so the ledger sees the same figures every time (its natural
keys then make a replay change nothing).

The rule's inputs are read from running totals (`creator_day_totals`: a creator's credited
orders, their basis now and their commission, per UTC day, campaign and currency), kept in the
same transaction as each decision and refund, so crediting an order reads the days of a window,
not the creator's whole history. The creator's decisions are serialised (a transaction-scoped
advisory lock per tenant and creator), so two orders of one creator never read the same totals.
The creator's sales record for discovery is published by the performance worker
(crediting/performance.py), once per creator and interval however many orders moved it
(docs/decisions/0039).

Here: the decision (`decide`) and the conversion events. The touches and the campaign's
attribution settings are in touches.py, the running totals and the creator's lock in totals.py,
the ledger entries of a decision in settlement.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import all_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.codes.models import Code
from services.attribution.crediting import split as splitting
from services.attribution.crediting.credit import WHOLE_ORDER_MODELS, Credit, Touch, candidates, credit
from services.attribution.crediting.credit import _describe as describe
from services.attribution.crediting.models import CreditShare, OrderCredit
from services.attribution.crediting.totals import count, lock_creator, performance_due, rule_inputs
from services.attribution.crediting.touches import policy_for, touches_of
from services.attribution.db import SERVICE, outbox
from services.attribution.fraud import service as fraud
from services.attribution.models import split_minor
from services.attribution.orders import batch
from services.attribution.orders.model import Order
from services.attribution.orders.models import PartnerOrder
from services.attribution.rules import service as rules
from services.attribution.rules.compute import compute
from services.attribution.rules.models import CommissionRule
from services.attribution.rules.terms import period_of, window_of
from shared.contracts.attribution import ConversionPayload
from shared.contracts.envelope import new_envelope
from shared.db import transaction_memo, utcnow
from shared.tenancy import built_once

CONVERSIONS = "attribution.conversion.v1"
PERFORMANCE = "attribution.performance.v1"

CANCELLED = "cancelled"  # a refund may not be named so (orders/reading.RESERVED_REFUND_IDS)


def ledger_source(row: PartnerOrder) -> str:
    """The ledger's name for the order's source: the format and the webhook source, so two partners'
    order ids never meet."""
    return f"{row.source}:{row.source_id}"


# Built once with bind parameters (docs/decisions/0057).
_EARLIER_ORDER = built_once(
    select(PartnerOrder.id)
    # Not the order itself, nor those its batch inserted ahead of their turn (orders/batch.py).
    .where(PartnerOrder.customer_key == bindparam("customer_key"),
           PartnerOrder.id != all_(bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))),
           PartnerOrder.placed_at < bindparam("placed_at"),
           # A test order (the shop's test gateway) makes nobody a repeat customer.
           PartnerOrder.test.is_(False)).limit(1))


async def _rule_in_force(session: AsyncSession, campaign_id: uuid.UUID, creator_id: uuid.UUID,
                         placed_at: datetime) -> CommissionRule | None:
    """rules.rule_in_force, from the scope's versions read once per transaction (a batch of orders
    reads a campaign's rule once): the creator's override in force then, else the campaign's."""
    known = transaction_memo(session, "attribution.rule_versions")
    versions = known.get((campaign_id, creator_id))
    if versions is None:
        versions = known[(campaign_id, creator_id)] = await rules.versions_for(session, campaign_id, creator_id)
    for scope in (creator_id, None):
        in_force = [v for v in versions if v.creator_id == scope and v.effective_from <= placed_at]
        if in_force:
            return max(in_force, key=lambda v: (v.effective_from, v.version))
    return None


async def _new_customer(session: AsyncSession, row: PartnerOrder) -> bool:
    if row.customer_key is None:
        return True
    earliest = batch.earliest_order(session, row.tenant_id, row.customer_key)
    if earliest is not batch.UNKNOWN:  # the batch knows (orders/batch.py): no statement
        return earliest is None or not earliest < row.placed_at
    # Whether one earlier order exists, not how many: a regular's history is not counted per order.
    earlier = (await session.execute(
        _EARLIER_ORDER, {"customer_key": row.customer_key, "ids": [row.id, *batch.pending_orders(session)],
                         "placed_at": row.placed_at})).first()
    return earlier is None


async def decide(session: AsyncSession, row: PartnerOrder, order: Order, *,
                 fresh: bool = False) -> tuple[OrderCredit, bool]:
    """The order's credit decision: taken once, then read back; and whether it was taken now.
    `fresh`: the order was inserted by this transaction, so no decision can exist for it yet."""
    if not fresh:
        kept = (await session.execute(select(OrderCredit).where(OrderCredit.order_ref == row.id))).scalar_one_or_none()
        if kept is not None:
            return kept, False
    touches, code_ids = await touches_of(session, row)
    policy, params, note = await policy_for(session, row.placed_at, touches)
    result: Credit = credit(row.placed_at, touches, policy)
    explanation = result.explanation + (f" {note}" if note else "")
    decision = OrderCredit(id=uuid.uuid4(), order_ref=row.id, placed_at=row.placed_at, outcome="unattributed",
                           explanation=explanation,
                           revenue_in_window_minor=0, new_customer=True, earned_in_period_minor=0, commission_minor=0,
                           commission_explanation="")
    winner = result.winner
    if row.test:
        # Placed through the shop's test payment gateway: no money changed hands. Stored and shown,
        # never credited, so it pays no commission and counts in no total or report.
        decision.explanation = ("Not credited: a test order (placed through the shop's test payment gateway) earns "
                                f"nothing and counts in no total. Had it been real: {explanation}")
        winner = None
    shared: splitting.Split | None = None
    lead_touch = winner
    if winner is not None and policy.model not in WHOLE_ORDER_MODELS:
        path = [t for t in candidates(row.placed_at, touches, policy) if t.campaign_id == winner.campaign_id]
        shared = await splitting.split(
            session, tenant_id=row.tenant_id, campaign_id=uuid.UUID(winner.campaign_id or ""), currency=row.currency,
            model=policy.model, params=params, path=path, placed_at=row.placed_at)
        lead = splitting.lead_of(shared.shares, winner)
        lead_touch = max((t for t in path if t.creator_id == lead), key=lambda t: (t.at, -t.position))
        decision.explanation = _split_explanation(result, shared, path, row.placed_at) + (f" {note}" if note else "")
    if lead_touch is not None:
        creator_id, campaign_id = uuid.UUID(lead_touch.creator_id), uuid.UUID(lead_touch.campaign_id or "")
        await lock_creator(session, row.tenant_id, creator_id)
        decision.outcome, decision.creator_id, decision.campaign_id = "credited", creator_id, campaign_id
        decision.touch_kind, decision.touch_label = lead_touch.kind, lead_touch.label
        decision.code_id = code_ids.get(lead_touch.label) if lead_touch.kind == "code" else None
        version = await _rule_in_force(session, campaign_id, creator_id, row.placed_at)
        if version is None:
            decision.commission_explanation = "No commission rule was in force for this campaign when the order was placed."
        else:
            terms = version.terms()
            start, end = window_of(terms, row.placed_at)
            month_start, month_end = period_of(row.placed_at)
            decision.rule_id = version.id
            decision.currency = terms.currency
            decision.revenue_in_window_minor, decision.earned_in_period_minor = await rule_inputs(
                session, creator_id, campaign_id, terms.currency, (start, end), (month_start, month_end))
            decision.new_customer = await _new_customer(session, row)
            commission = compute(terms, order, (), revenue_in_window=decision.revenue_in_window_minor,
                                 new_customer=decision.new_customer, earned_in_period=decision.earned_in_period_minor)
            decision.commission_minor = commission.amount_minor
            decision.commission_explanation = commission.explanation
        if decision.code_id is not None and not batch.use_code(session, row.tenant_id, decision.code_id):
            # Built per call, with its value: the ORM evaluates this WHERE in Python to keep the
            # session's Code object in step (a bind parameter's value is not there to evaluate),
            # and the next order of the batch checks the code's usage limit on that object.
            await session.execute(update(Code).where(Code.id == decision.code_id).values(uses=Code.uses + 1))
    decision.attribution_model = policy.model
    if decision.outcome == "credited":
        await count(session, row, decision)
        decision.shipping_country = row.shipping_country
        decision.without_creator_click = not any(
            t.kind == "click" and t.creator_id == str(decision.creator_id) for t in touches)
        await fraud.count_credited(session, row.tenant_id, decision)
    session.add(decision)
    await batch.flush(session)
    parts = split_minor(decision.commission_minor, shared.shares) if shared is not None else {}
    if decision.outcome == "credited" and shared is not None:
        session.add_all([CreditShare(
            id=uuid.uuid4(), order_ref=row.id, revision=1, creator_id=uuid.UUID(c), campaign_id=decision.campaign_id,
            share=str(shared.shares[c]), commission_minor=parts[c], line_key=splitting.line_key(c, decision.creator_id),
            model=shared.model, model_version=shared.version, params=shared.params, basis=shared.basis,
        ) for c in sorted(shared.shares)])
        await session.flush()
    if decision.outcome == "credited":
        if decision.commission_minor > 0:
            # Before its commission is written (settle): a held order's commission is never approvable.
            await fraud.screen(session, row, decision, ledger_source(row), new=True)
        if shared is None:
            await conversion(session, row, decision, "ConversionAttributed", decision.commission_minor)
        else:
            for c in sorted(shared.shares):
                await conversion(session, row, decision, "ConversionAttributed", parts[c], creator_id=uuid.UUID(c),
                                  share=shared.shares[c])
        await performance_due(session, decision.creator_id, row.currency)
    return decision, True


def percent(share: Fraction) -> str:
    value = float(share) * 100
    return f"{value:.0f} %" if abs(value - round(value)) < 0.05 else f"{value:.1f} %"


def _split_explanation(result: Credit, shared: splitting.Split, path: list[Touch], placed_at: datetime) -> str:
    """"credited under linear to 2 creators: creator A 50 % (code X used at checkout), creator B 50 % (...)",
    then why each other touch was left out."""
    by_creator: dict[str, list[Touch]] = {}
    for t in path:
        by_creator.setdefault(t.creator_id, []).append(t)
    parts = []
    for c in sorted(shared.shares, key=lambda c: (-shared.shares[c], c)):
        touched = "; ".join(describe(t, placed_at) for t in by_creator.get(c, []))
        parts.append(f"{by_creator[c][0].creator if c in by_creator else c} {percent(shared.shares[c])} ({touched})")
    on_path = {id(t) for t in path}
    left_out = [v.why for v in result.verdicts if id(v.touch) not in on_path]
    head = (f"credited under {shared.version} to {len(shared.shares)} creator{'s' if len(shared.shares) != 1 else ''}: "
            + ", ".join(parts) + f" [{shared.basis}]")
    return head + ("; " + "; ".join(left_out) if left_out else "") + "."


async def conversion(session: AsyncSession, row: PartnerOrder, decision: OrderCredit, event_type: str,
                      commission_minor: int, *, creator_id: uuid.UUID | None = None, share: Fraction | None = None) -> None:
    """`attribution.conversion.v1`: an order credited (its commission), or a reversal of part or
    all of it (negative), keyed by the order; one per creator of a split order, with its share."""
    payload = ConversionPayload(
        order_id=row.order_id, partner_id=ledger_source(row), campaign_id=decision.campaign_id,
        creator_id=creator_id or decision.creator_id, attribution_model=decision.attribution_model,
        credit_share="1" if share is None else _share_text(share),
        order_total_minor=row.total_minor if row.total_minor is not None else row.basis_before_refunds_minor,
        commission_minor=commission_minor, currency=decision.currency or row.currency, occurred_at=utcnow())
    envelope = new_envelope(
        event_type=event_type, producer=SERVICE, aggregate_id=str(row.id), tenant_id=row.tenant_id, payload=payload)
    if not batch.add_event(session, CONVERSIONS, envelope):  # else at the batch's end (orders/batch.py)
        await outbox.add(session, CONVERSIONS, envelope)


def _share_text(share: Fraction) -> str:
    """The share as a decimal string (the contract's `credit_share`), to 6 places."""
    return format(Decimal(share.numerator) / Decimal(share.denominator), ".6f").rstrip("0").rstrip(".") or "0"
