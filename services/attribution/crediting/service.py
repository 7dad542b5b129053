"""From a stored order to money: which creator earned it (credit.py), under which commission rule
version (rules/), and the ledger entries — a commission when the order is first credited, a
clawback per refund and on cancellation.

The decision is taken once, when the order is first stored, and kept (`order_credits`): the
touch that won, the rule version in force when the order was placed, and the inputs the rule
needs (the creator's attributed revenue in the rule's window, whether the customer is new,
what the creator earned this month). Everything after — a refund, an update, a replay — is
computed again from that decision, so the ledger sees the same figures every time (its natural
keys then make a replay change nothing).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.clicks.models import Click
from services.attribution.codes.models import Code
from services.attribution.crediting.credit import Credit, Policy, Touch, credit
from services.attribution.crediting.models import OrderCredit
from services.attribution.db import SERVICE, outbox
from services.attribution.ledger import service as ledger
from services.attribution.ledger.models import ClawbackClaim, LedgerEntry
from services.attribution.links.models import Link
from services.attribution.orders.model import Order, Refund
from services.attribution.orders.models import PartnerOrder
from services.attribution.rules import service as rules
from services.attribution.rules.compute import compute
from services.attribution.rules.models import CommissionRule
from services.attribution.rules.terms import period_of, window_of
from shared import tenancy
from shared.contracts.attribution import ConversionPayload, CreatorPerformanceUpdated
from shared.contracts.envelope import new_envelope
from shared.db import utcnow

CONVERSIONS = "attribution.conversion.v1"
PERFORMANCE = "attribution.performance.v1"

CANCELLED = "cancelled"


def ledger_source(row: PartnerOrder) -> str:
    """The ledger's name for the order's source: the format and the webhook source, so two partners'
    order ids never meet."""
    return f"{row.source}:{row.source_id}"


def _creator_name(creator_id: uuid.UUID) -> str:
    return f"creator {creator_id}"


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError):
        return None


async def touches_of(session: AsyncSession, row: PartnerOrder) -> tuple[list[Touch], dict[str, uuid.UUID]]:
    """The order's candidate touches: its codes (matched whatever the case) and its click ids."""
    touches: list[Touch] = []
    code_ids: dict[str, uuid.UUID] = {}
    placed = row.placed_at
    if row.codes:
        found = (await session.execute(select(Code).where(func.upper(Code.code).in_([c.upper() for c in row.codes])))).scalars()
        by_upper = {code.code.upper(): code for code in found}
        for position, typed in enumerate(row.codes):
            code = by_upper.get(typed.upper())
            if code is None:
                continue
            dead = None
            if code.revoked_at is not None and code.revoked_at <= placed:
                dead = f"code revoked on {code.revoked_at.date().isoformat()}"
            elif code.expires_at is not None and code.expires_at <= placed:
                dead = f"code expired on {code.expires_at.date().isoformat()}"
            elif code.usage_limit is not None and code.uses >= code.usage_limit:
                dead = f"its usage limit of {code.usage_limit} orders was reached"
            touches.append(Touch("code", str(code.creator_id), _creator_name(code.creator_id), str(code.campaign_id),
                                 placed, typed, dead=dead, position=position))
            code_ids[typed] = code.id
    click_ids = [u for u in (_as_uuid(c) for c in row.click_ids) if u is not None]
    if click_ids:
        found = (await session.execute(
            select(Click, Link).join(Link, Link.id == Click.link_id).where(Click.id.in_(click_ids)))).all()
        by_id = {click.id: (click, link) for click, link in found}
        for position, click_id in enumerate(click_ids):
            if click_id not in by_id:
                continue
            click, link = by_id[click_id]
            dead = None
            if link.revoked_at is not None and link.revoked_at <= click.clicked_at:
                dead = f"link revoked on {link.revoked_at.date().isoformat()}"
            touches.append(Touch("click", str(click.creator_id), _creator_name(click.creator_id), str(click.campaign_id),
                                 click.clicked_at, link.slug, window_days=link.window_days,
                                 flagged=(f"a flagged click ({click.flag_reason or 'bot'})" if click.flagged else None),
                                 dead=dead, position=position))
    return touches, code_ids


async def _revenue_in_window(session: AsyncSession, creator_id: uuid.UUID, start: datetime, end: datetime,
                             currency: str) -> int:
    """The creator's attributed revenue (credited orders' basis) placed in [start, end)."""
    value = (await session.execute(
        select(func.coalesce(func.sum(PartnerOrder.basis_minor), 0))
        .join(OrderCredit, OrderCredit.order_ref == PartnerOrder.id)
        .where(OrderCredit.creator_id == creator_id, OrderCredit.outcome == "credited", PartnerOrder.currency == currency,
               PartnerOrder.placed_at >= start, PartnerOrder.placed_at < end))).scalar_one()
    return int(value)


async def _earned_in_period(session: AsyncSession, creator_id: uuid.UUID, campaign_id: uuid.UUID, start: datetime,
                            end: datetime, currency: str) -> int:
    value = (await session.execute(
        select(func.coalesce(func.sum(OrderCredit.commission_minor), 0))
        .join(PartnerOrder, OrderCredit.order_ref == PartnerOrder.id)
        .where(OrderCredit.creator_id == creator_id, OrderCredit.campaign_id == campaign_id, OrderCredit.currency == currency,
               PartnerOrder.placed_at >= start, PartnerOrder.placed_at < end))).scalar_one()
    return int(value)


async def _new_customer(session: AsyncSession, row: PartnerOrder) -> bool:
    if row.customer_key is None:
        return True
    earlier = (await session.execute(
        select(func.count()).select_from(PartnerOrder)
        .where(PartnerOrder.customer_key == row.customer_key, PartnerOrder.id != row.id,
               PartnerOrder.placed_at < row.placed_at))).scalar_one()
    return earlier == 0


async def decide(session: AsyncSession, row: PartnerOrder, order: Order) -> OrderCredit:
    """The order's credit decision: taken once, then read back."""
    kept = (await session.execute(select(OrderCredit).where(OrderCredit.order_ref == row.id))).scalar_one_or_none()
    if kept is not None:
        return kept
    touches, code_ids = await touches_of(session, row)
    result: Credit = credit(row.placed_at, touches, Policy())
    decision = OrderCredit(id=uuid.uuid4(), order_ref=row.id, outcome="unattributed", explanation=result.explanation,
                           revenue_in_window_minor=0, new_customer=True, earned_in_period_minor=0, commission_minor=0,
                           commission_explanation="")
    winner = result.winner
    if winner is not None:
        creator_id, campaign_id = uuid.UUID(winner.creator_id), uuid.UUID(winner.campaign_id or "")
        decision.outcome, decision.creator_id, decision.campaign_id = "credited", creator_id, campaign_id
        decision.touch_kind, decision.touch_label = winner.kind, winner.label
        decision.code_id = code_ids.get(winner.label) if winner.kind == "code" else None
        version = await rules.rule_in_force(session, campaign_id, creator_id, row.placed_at)
        if version is None:
            decision.commission_explanation = "No commission rule was in force for this campaign when the order was placed."
        else:
            terms = version.terms()
            start, end = window_of(terms, row.placed_at)
            month_start, month_end = period_of(row.placed_at)
            decision.rule_id = version.id
            decision.currency = terms.currency
            decision.revenue_in_window_minor = await _revenue_in_window(session, creator_id, start, end, terms.currency)
            decision.new_customer = await _new_customer(session, row)
            decision.earned_in_period_minor = await _earned_in_period(
                session, creator_id, campaign_id, month_start, month_end, terms.currency)
            commission = compute(terms, order, (), revenue_in_window=decision.revenue_in_window_minor,
                                 new_customer=decision.new_customer, earned_in_period=decision.earned_in_period_minor)
            decision.commission_minor = commission.amount_minor
            decision.commission_explanation = commission.explanation
        if decision.code_id is not None:
            await session.execute(update(Code).where(Code.id == decision.code_id).values(uses=Code.uses + 1))
    session.add(decision)
    await session.flush()
    if decision.outcome == "credited":
        await _conversion(session, row, decision, "ConversionAttributed", decision.commission_minor)
        await publish_performance(session, decision.creator_id, row.currency)
    return decision


async def settle(session: AsyncSession, row: PartnerOrder, order: Order, refunds: list[Refund]) -> None:
    """The order's ledger entries from its credit decision, its refunds and its cancellation."""
    decision = await decide(session, row, order)
    if decision.outcome != "credited" or decision.commission_minor <= 0 or decision.rule_id is None:
        return
    source = ledger_source(row)
    version = await session.get(CommissionRule, decision.rule_id)
    terms = version.terms()
    await ledger.record_commission(
        session, source=source, order_id=row.order_id, line_key="order", creator_id=decision.creator_id,
        campaign_id=decision.campaign_id, currency=decision.currency, amount=decision.commission_minor,
        hold_until=row.placed_at + timedelta(days=terms.holding_days),
        reason=f"{decision.explanation} {decision.commission_explanation}".strip()[:2000])
    inputs = dict(revenue_in_window=decision.revenue_in_window_minor, new_customer=decision.new_customer,
                  earned_in_period=decision.earned_in_period_minor)
    before = decision.commission_minor
    changed = False
    for i, refund in enumerate(refunds):
        after = compute(terms, order, refunds[: i + 1], **inputs).amount_minor
        if before - after > 0 and not await _claimed(session, source, row.order_id, refund.refund_id):
            await ledger.claw_back(session, source=source, order_id=row.order_id, refund_id=refund.refund_id,
                                   currency=decision.currency, amount=before - after,
                                   reason=f"refund {refund.refund_id}: the commission falls from {before} to {after} minor units")
            await _conversion(session, row, decision, "ConversionReversed", -(before - after))
            changed = True
        before = after
    if row.state == "cancelled" and not await _claimed(session, source, row.order_id, CANCELLED):
        await ledger.claw_back(session, source=source, order_id=row.order_id, refund_id=CANCELLED, currency=decision.currency,
                               amount=None, reason=f"order {row.order_id} cancelled")
        await _conversion(session, row, decision, "ConversionReversed", -before)
        changed = True
    if changed:
        await publish_performance(session, decision.creator_id, row.currency)


async def _claimed(session: AsyncSession, source: str, order_id: str, refund_id: str) -> bool:
    found = await session.execute(select(ClawbackClaim.id).where(
        ClawbackClaim.source == source, ClawbackClaim.order_id == order_id, ClawbackClaim.refund_id == refund_id))
    return found.first() is not None


async def _conversion(session: AsyncSession, row: PartnerOrder, decision: OrderCredit, event_type: str,
                      commission_minor: int) -> None:
    """`attribution.conversion.v1`: an order credited (its commission), or a reversal of part or
    all of it (negative), keyed by the order."""
    payload = ConversionPayload(
        order_id=row.order_id, partner_id=ledger_source(row), campaign_id=decision.campaign_id,
        creator_id=decision.creator_id, attribution_model="last_touch", credit_share="1",
        order_total_minor=row.total_minor if row.total_minor is not None else row.basis_before_refunds_minor,
        commission_minor=commission_minor, currency=decision.currency or row.currency, occurred_at=utcnow())
    await outbox.add(session, CONVERSIONS, new_envelope(
        event_type=event_type, producer=SERVICE, aggregate_id=str(row.id), tenant_id=row.tenant_id, payload=payload))


async def publish_performance(session: AsyncSession, creator_id: uuid.UUID, currency: str) -> None:
    """`attribution.performance.v1`: the creator's sales record in `currency` over every workspace
    (discovery's catalogue is installation-wide): unflagged clicks, credited orders, their revenue
    (the orders' basis now) and the net commission in the ledger."""
    with tenancy.acting_for(session, tenancy.AcrossTenants("a creator's installation-wide sales record for discovery")):
        clicks = (await session.execute(select(func.count()).select_from(Click).where(
            Click.creator_id == creator_id, Click.flagged.is_(False)))).scalar_one()
        orders, revenue = (await session.execute(
            select(func.count(), func.coalesce(func.sum(PartnerOrder.basis_minor), 0))
            .select_from(OrderCredit).join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
            .where(OrderCredit.creator_id == creator_id, OrderCredit.outcome == "credited",
                   PartnerOrder.currency == currency))).one()
        commission = (await session.execute(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.creator_id == creator_id, LedgerEntry.currency == currency))).scalar_one()
    payload = CreatorPerformanceUpdated(creator_id=creator_id, clicks=int(clicks), orders=int(orders),
                                        revenue_minor=int(revenue), commission_minor=int(commission), currency=currency,
                                        as_of=utcnow())
    await outbox.add(session, PERFORMANCE, new_envelope(
        event_type="CreatorPerformanceUpdated", producer=SERVICE, aggregate_id=str(creator_id), payload=payload))


async def ledger_entries(session, row: PartnerOrder) -> list[LedgerEntry]:
    return list((await session.execute(
        select(LedgerEntry).where(LedgerEntry.source == ledger_source(row), LedgerEntry.order_id == row.order_id)
        .order_by(LedgerEntry.created_at))).scalars())
