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
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import String, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.clicks.models import Click
from services.attribution.codes.models import Code
from services.attribution.campaign.models import Campaign
from services.attribution.crediting import split as splitting
from services.attribution.crediting.credit import (
    WHOLE_ORDER_MODELS, Credit, Policy, Touch, candidates, credit, qualifying,
)
from services.attribution.crediting.credit import _describe as describe
from services.attribution.crediting.models import CreatorDayTotal, CreditShare, OrderCredit, PerformanceDue
from services.attribution.db import SERVICE, outbox
from services.attribution.fraud import service as fraud
from services.attribution.ledger import service as ledger
from services.attribution.ledger.models import ClawbackClaim, LedgerEntry
from services.attribution.models import split_minor
from services.attribution.links.models import Link
from services.attribution.orders.model import Order, Refund
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


# The order path's statements, each built once with bind parameters: building a statement costs
# more CPU than running it (docs/decisions/0057).
_CODES = built_once(select(Code).where(func.upper(Code.code).in_(bindparam("codes", expanding=True))))
_CLICKS = built_once(
    select(Click, Link).join(Link, Link.id == Click.link_id).where(Click.id.in_(bindparam("ids", expanding=True))))
_CREDIT_LOCK = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("name", type_=String), 0)))


def _rule_inputs_statement():
    in_window = and_(CreatorDayTotal.day >= bindparam("start"), CreatorDayTotal.day < bindparam("end"))
    in_period = and_(CreatorDayTotal.day >= bindparam("first"), CreatorDayTotal.day < bindparam("last"),
                     CreatorDayTotal.campaign_id == bindparam("campaign"))
    return (select(func.coalesce(func.sum(CreatorDayTotal.revenue_minor).filter(in_window), 0),
                   func.coalesce(func.sum(CreatorDayTotal.commission_minor).filter(in_period), 0))
            .where(CreatorDayTotal.creator_id == bindparam("creator"), CreatorDayTotal.currency == bindparam("currency"),
                   or_(in_window, in_period)))


def _add_to_totals_statement():
    statement = insert(CreatorDayTotal)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[CreatorDayTotal.creator_id, CreatorDayTotal.currency, CreatorDayTotal.day,
                        CreatorDayTotal.campaign_id],
        set_={"orders": CreatorDayTotal.orders + excluded.orders,
              "revenue_minor": CreatorDayTotal.revenue_minor + excluded.revenue_minor,
              "commission_minor": CreatorDayTotal.commission_minor + excluded.commission_minor})


_RULE_INPUTS = built_once(_rule_inputs_statement())
_ADD_TO_TOTALS = _add_to_totals_statement()
# Whether one earlier order of the customer exists, not how many.
_EARLIER_ORDER = built_once(
    select(PartnerOrder.id)
    .where(PartnerOrder.customer_key == bindparam("customer_key"), PartnerOrder.id != bindparam("id"),
           PartnerOrder.placed_at < bindparam("placed_at")).limit(1))
_PERFORMANCE_DUE = insert(PerformanceDue).on_conflict_do_update(
    index_elements=[PerformanceDue.creator_id, PerformanceDue.currency], set_={"version": PerformanceDue.version + 1})


async def touches_of(session: AsyncSession, row: PartnerOrder, *,
                     admitted: bool = False) -> tuple[list[Touch], dict[str, uuid.UUID]]:
    """The order's candidate touches: its codes (matched whatever the case) and its click ids.
    `admitted`: the order was credited already, so a code's usage limit, which it counts towards
    itself, is not held against it (a re-computation)."""
    touches: list[Touch] = []
    code_ids: dict[str, uuid.UUID] = {}
    placed = row.placed_at
    if row.codes:
        found = (await session.execute(_CODES, {"codes": [c.upper() for c in row.codes]})).scalars()
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
            elif not admitted and code.usage_limit is not None and code.uses >= code.usage_limit:
                dead = f"its usage limit of {code.usage_limit} orders was reached"
            touches.append(Touch("code", str(code.creator_id), _creator_name(code.creator_id), str(code.campaign_id),
                                 placed, typed, dead=dead, position=position))
            code_ids[typed] = code.id
    click_ids = [u for u in (_as_uuid(c) for c in row.click_ids) if u is not None]
    if click_ids:
        found = (await session.execute(_CLICKS, {"ids": click_ids})).all()
        by_id = {click.id: (click, link) for click, link in found}
        for position, click_id in enumerate(click_ids):
            if click_id not in by_id:
                continue
            click, link = by_id[click_id]
            dead = None
            if link.revoked_at is not None and link.revoked_at <= click.clicked_at:
                dead = f"link revoked on {link.revoked_at.date().isoformat()}"
            flagged = f"a flagged click ({click.flag_reason or 'bot'})" if click.flagged else None
            if click.holdout_group == "control":
                flagged = "a click by a visitor held out by an audience holdout (the control group)"
            touches.append(Touch("click", str(click.creator_id), _creator_name(click.creator_id), str(click.campaign_id),
                                 click.clicked_at, link.slug, window_days=link.window_days,
                                 flagged=flagged,
                                 dead=dead, position=position))
    return touches, code_ids


async def policy_for(session: AsyncSession, placed_at: datetime,
                     touches: list[Touch]) -> tuple[Policy, dict, str | None]:
    """The attribution settings that decide among the order's touches — precedence, model and the
    model's parameters: those of the campaign its qualifying touches belong to. Touches of
    campaigns set differently are decided by the default (codes take precedence, last touch), and
    the explanation says so."""
    campaign_ids = {uuid.UUID(t.campaign_id) for t in qualifying(placed_at, touches) if t.campaign_id}
    if not campaign_ids:
        return Policy(), {}, None
    known = transaction_memo(session, "attribution.campaign_policies")
    missing = campaign_ids - known.keys()
    if missing:
        for campaign_id, *setting in (await session.execute(
                select(Campaign.id, Campaign.attribution_precedence, Campaign.attribution_model,
                       Campaign.attribution_params).where(Campaign.id.in_(missing)))).all():
            known[campaign_id] = tuple(setting)
    found = [known[c] for c in campaign_ids if c in known]
    settings = {(p, m, json.dumps(a or {}, sort_keys=True)) for p, m, a in found}
    if len(settings) <= 1:
        [(precedence, model, params)] = settings or [("code", "last_touch", "{}")]
        return Policy(precedence=precedence, model=model), json.loads(params), None
    return Policy(), {}, ("The touches belong to campaigns with different attribution settings, so the default "
                          "decided: codes take precedence, then the last touch.")


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


async def _lock_creator(session: AsyncSession, tenant_id: uuid.UUID, creator_id: uuid.UUID) -> None:
    """One decision at a time per tenant and creator, until the transaction ends: the totals the
    rule reads then include every order decided before."""
    held = transaction_memo(session, "attribution.creator_locks")
    if (tenant_id, creator_id) in held:
        return  # a transaction-scoped lock: held until this transaction ends
    await session.execute(_CREDIT_LOCK, {"name": f"credit:{tenant_id}:{creator_id}"})
    held[(tenant_id, creator_id)] = True


async def _rule_inputs(session: AsyncSession, creator_id: uuid.UUID, campaign_id: uuid.UUID, currency: str,
                      window: tuple[date, date], period: tuple[datetime, datetime]) -> tuple[int, int]:
    """In one statement, from the creator's day totals: its attributed revenue (credited orders'
    basis now) placed on the UTC days [window), and what it was credited (before refunds) in the
    campaign for orders placed in [period)."""
    (start, end), (first, last) = window, (period[0].date(), period[1].date())
    revenue, earned = (await session.execute(_RULE_INPUTS, {
        "start": start, "end": end, "first": first, "last": last, "campaign": campaign_id, "creator": creator_id,
        "currency": currency})).one()
    return int(revenue), int(earned)


async def _add_to_totals(session: AsyncSession, row: PartnerOrder, decision: OrderCredit, *, orders: int,
                         revenue: int, commission: int) -> None:
    """Add to the day total of the order's creator, campaign and currency on the day that counts
    it (`counted_on`: its UTC day when credited, kept even if a later update moves `placed_at`,
    so what was added to one day is never taken from another)."""
    key = {"tenant_id": row.tenant_id, "creator_id": decision.creator_id, "currency": row.currency,
           "day": decision.counted_on, "campaign_id": decision.campaign_id}
    await session.execute(_ADD_TO_TOTALS, [{**key, "orders": orders, "revenue_minor": revenue, "commission_minor": commission}])


async def _new_customer(session: AsyncSession, row: PartnerOrder) -> bool:
    if row.customer_key is None:
        return True
    # Whether one earlier order exists, not how many: a regular's history is not counted per order.
    earlier = (await session.execute(
        _EARLIER_ORDER, {"customer_key": row.customer_key, "id": row.id, "placed_at": row.placed_at})).first()
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
        await _lock_creator(session, row.tenant_id, creator_id)
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
            decision.revenue_in_window_minor, decision.earned_in_period_minor = await _rule_inputs(
                session, creator_id, campaign_id, terms.currency, (start, end), (month_start, month_end))
            decision.new_customer = await _new_customer(session, row)
            commission = compute(terms, order, (), revenue_in_window=decision.revenue_in_window_minor,
                                 new_customer=decision.new_customer, earned_in_period=decision.earned_in_period_minor)
            decision.commission_minor = commission.amount_minor
            decision.commission_explanation = commission.explanation
        if decision.code_id is not None:
            # Built per call, with its value: the ORM evaluates this WHERE in Python to keep the
            # session's Code object in step (a bind parameter's value is not there to evaluate),
            # and the next order of the batch checks the code's usage limit on that object.
            await session.execute(update(Code).where(Code.id == decision.code_id).values(uses=Code.uses + 1))
    decision.attribution_model = policy.model
    if decision.outcome == "credited":
        await _count(session, row, decision)
        decision.shipping_country = row.shipping_country
        decision.without_creator_click = not any(
            t.kind == "click" and t.creator_id == str(decision.creator_id) for t in touches)
        await fraud.count_credited(session, row.tenant_id, decision)
    session.add(decision)
    await session.flush()
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
            await _conversion(session, row, decision, "ConversionAttributed", decision.commission_minor)
        else:
            for c in sorted(shared.shares):
                await _conversion(session, row, decision, "ConversionAttributed", parts[c], creator_id=uuid.UUID(c),
                                  share=shared.shares[c])
        await performance_due(session, decision.creator_id, row.currency)
    return decision, True


def _percent(share: Fraction) -> str:
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
        parts.append(f"{by_creator[c][0].creator if c in by_creator else c} {_percent(shared.shares[c])} ({touched})")
    on_path = {id(t) for t in path}
    left_out = [v.why for v in result.verdicts if id(v.touch) not in on_path]
    head = (f"credited under {shared.version} to {len(shared.shares)} creator{'s' if len(shared.shares) != 1 else ''}: "
            + ", ".join(parts) + f" [{shared.basis}]")
    return head + ("; " + "; ".join(left_out) if left_out else "") + "."


async def _count(session: AsyncSession, row: PartnerOrder, decision: OrderCredit) -> None:
    """Count a credited order in its creator's day total: the order, its basis now, its commission."""
    decision.counted_on = (decision.placed_at or row.placed_at).astimezone(UTC).date()
    decision.revenue_counted_minor = row.basis_minor
    await _add_to_totals(session, row, decision, orders=1, revenue=row.basis_minor, commission=decision.commission_minor)


async def _follow_basis(session: AsyncSession, row: PartnerOrder, decision: OrderCredit) -> None:
    """Keep the creator's day total on the order's basis now (a refund lowers it, a cancellation
    takes it to 0): only the difference from what it already counts, so a replay adds nothing. A
    credit not counted yet (decided by a service older than the totals, after migration 0014's
    backfill) is counted whole the first time."""
    if decision.counted_on is None:
        await _lock_creator(session, row.tenant_id, decision.creator_id)
        await _count(session, row, decision)
    else:
        delta = row.basis_minor - decision.revenue_counted_minor
        if delta == 0:
            return
        await _lock_creator(session, row.tenant_id, decision.creator_id)
        await _add_to_totals(session, row, decision, orders=0, revenue=delta, commission=0)
        decision.revenue_counted_minor = row.basis_minor
    await performance_due(session, decision.creator_id, row.currency)


async def settle(session: AsyncSession, row: PartnerOrder, order: Order, refunds: list[Refund], *,
                 fresh: bool = False) -> None:
    """The order's ledger entries from its credit decision, its refunds and its cancellation.
    `fresh`: the order was inserted by this transaction (orders/service.py)."""
    decision, new = await decide(session, row, order, fresh=fresh)
    if decision.outcome == "credited":
        await _follow_basis(session, row, decision)
    if decision.outcome != "credited" or decision.commission_minor <= 0 or decision.rule_id is None:
        return
    source = ledger_source(row)
    version = await session.get(CommissionRule, decision.rule_id)
    terms = version.terms()
    hold_until = (decision.placed_at or row.placed_at) + timedelta(days=terms.holding_days)
    reason = f"{decision.explanation} {decision.commission_explanation}".strip()[:2000]
    # A decision taken now for a whole-order model has no shares (none are written above).
    whole = new and decision.attribution_model in WHOLE_ORDER_MODELS
    first, latest = ([], []) if whole else await _shares(session, row)
    if not first:
        await ledger.record_commission(
            session, source=source, order_id=row.order_id, line_key="order", creator_id=decision.creator_id,
            campaign_id=decision.campaign_id, currency=decision.currency, amount=decision.commission_minor,
            hold_until=hold_until, reason=reason, new_order=fresh)
    for part in first:
        if part.commission_minor > 0:
            share_text = f"{_percent(Fraction(part.share))} of the order's commission under {part.model_version}. "
            await ledger.record_commission(
                session, source=source, order_id=row.order_id, line_key=part.line_key, creator_id=part.creator_id,
                campaign_id=part.campaign_id, currency=decision.currency, amount=part.commission_minor,
                hold_until=hold_until, reason=(share_text + reason)[:2000], new_order=fresh)
    inputs = dict(revenue_in_window=decision.revenue_in_window_minor, new_customer=decision.new_customer,
                  earned_in_period=decision.earned_in_period_minor)
    before = decision.commission_minor
    changed = False
    for i, refund in enumerate(refunds):
        after = compute(terms, order, refunds[: i + 1], **inputs).amount_minor
        if before - after > 0 and not await _refund_claimed(session, source, row.order_id, refund.refund_id):
            text = f"refund {refund.refund_id}: the commission falls from {before} to {after} minor units"
            if not latest:
                await ledger.claw_back(session, source=source, order_id=row.order_id, refund_id=refund.refund_id,
                                       currency=decision.currency, amount=before - after, reason=text)
                await _conversion(session, row, decision, "ConversionReversed", -(before - after))
            else:
                # Each creator ends with exactly its share of what is left (split_minor of the
                # commission after the refund, by the shares in force), from what it holds in the
                # ledger now: it gives back the difference. Largest remainder is not monotone, so
                # rounding may owe a creator a cent back: a commission line says so. What is given
                # back less what is added is the commission's fall, to the minor unit.
                shares = {str(p.creator_id): Fraction(p.share) for p in latest}
                held = await _held_by_creator(session, source, row.order_id)
                target = split_minor(after, shares)
                base = _claim_base(refund.refund_id)
                for c in sorted(set(shares) | {str(k) for k in held}):
                    creator = uuid.UUID(c)
                    owed = held.get(creator, 0) - target.get(c, 0)
                    share_text = _percent(shares.get(c, Fraction(0)))
                    if owed > 0:
                        await ledger.claw_back(
                            session, source=source, order_id=row.order_id,
                            refund_id=refund.refund_id if creator == decision.creator_id else f"{base}|{c}",
                            currency=decision.currency, amount=owed, creator_id=creator,
                            reason=f"{text}; this creator's {share_text} part falls to {target.get(c, 0)}")
                    elif owed < 0:
                        await ledger.record_commission(
                            session, source=source, order_id=row.order_id, line_key=f"{base}+{c}", creator_id=creator,
                            campaign_id=decision.campaign_id, currency=decision.currency, amount=-owed,
                            hold_until=hold_until,
                            reason=f"{text}; this creator's {share_text} part of what is left is {target.get(c, 0)}: "
                                   f"{-owed} minor unit(s) more after rounding")
                    if owed:
                        await _conversion(session, row, decision, "ConversionReversed", -owed, creator_id=creator,
                                          share=shares.get(c, Fraction(0)))
            changed = True
        before = after
    if row.state == "cancelled" and not await _claimed(session, source, row.order_id, CANCELLED):
        await ledger.claw_back(session, source=source, order_id=row.order_id, refund_id=CANCELLED, currency=decision.currency,
                               amount=None, reason=f"order {row.order_id} cancelled")
        if not latest:
            await _conversion(session, row, decision, "ConversionReversed", -before)
        else:
            shares = {str(p.creator_id): Fraction(p.share) for p in latest}
            for c, left in split_minor(before, shares).items():
                await _conversion(session, row, decision, "ConversionReversed", -left, creator_id=uuid.UUID(c),
                                  share=shares[c])
        changed = True
    if changed:
        await performance_due(session, decision.creator_id, row.currency)


def _claim_base(refund_id: str) -> str:
    """The refund's name in the keys of its per-creator claims and lines (`<base>|<creator>`,
    `<base>+<creator>`): the refund id itself, or a digest of it when it is too long to fit the
    ledger's 255 characters with a creator id after it."""
    if len(refund_id) <= 200:
        return refund_id
    return "sha256:" + hashlib.sha256(refund_id.encode()).hexdigest()


async def _held_by_creator(session: AsyncSession, source: str, order_id: str) -> dict[uuid.UUID, int]:
    """What each creator holds of the order's commission now: its commissions less its clawbacks."""
    found = (await session.execute(
        select(LedgerEntry.creator_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.source == source, LedgerEntry.order_id == order_id)
        .group_by(LedgerEntry.creator_id))).all()
    return {creator: int(amount) for creator, amount in found}


async def _shares(session: AsyncSession, row: PartnerOrder) -> tuple[list[CreditShare], list[CreditShare]]:
    """The order's split when it was credited (revision 1) and the one in force now (its latest
    revision); both empty for an order credited whole."""
    found = list((await session.execute(
        select(CreditShare).where(CreditShare.order_ref == row.id)
        .order_by(CreditShare.revision, CreditShare.creator_id))).scalars())
    if not found:
        return [], []
    top = found[-1].revision
    return [s for s in found if s.revision == 1], [s for s in found if s.revision == top]


async def _refund_claimed(session: AsyncSession, source: str, order_id: str, refund_id: str) -> bool:
    """Whether the refund was already applied, whole or in creators' parts (its claims, or the
    rounding lines it added): each refund is split once, by the shares in force when it arrived."""
    base = _claim_base(refund_id)
    claimed = await session.execute(select(ClawbackClaim.id).where(
        ClawbackClaim.source == source, ClawbackClaim.order_id == order_id,
        (ClawbackClaim.refund_id == refund_id) | ClawbackClaim.refund_id.startswith(f"{base}|", autoescape=True)).limit(1))
    if claimed.first() is not None:
        return True
    added = await session.execute(select(LedgerEntry.id).where(
        LedgerEntry.source == source, LedgerEntry.order_id == order_id,
        LedgerEntry.line_key.startswith(f"{base}+", autoescape=True)).limit(1))
    return added.first() is not None


async def _claimed(session: AsyncSession, source: str, order_id: str, refund_id: str) -> bool:
    found = await session.execute(select(ClawbackClaim.id).where(
        ClawbackClaim.source == source, ClawbackClaim.order_id == order_id, ClawbackClaim.refund_id == refund_id))
    return found.first() is not None


async def _conversion(session: AsyncSession, row: PartnerOrder, decision: OrderCredit, event_type: str,
                      commission_minor: int, *, creator_id: uuid.UUID | None = None, share: Fraction | None = None) -> None:
    """`attribution.conversion.v1`: an order credited (its commission), or a reversal of part or
    all of it (negative), keyed by the order; one per creator of a split order, with its share."""
    payload = ConversionPayload(
        order_id=row.order_id, partner_id=ledger_source(row), campaign_id=decision.campaign_id,
        creator_id=creator_id or decision.creator_id, attribution_model=decision.attribution_model,
        credit_share="1" if share is None else _share_text(share),
        order_total_minor=row.total_minor if row.total_minor is not None else row.basis_before_refunds_minor,
        commission_minor=commission_minor, currency=decision.currency or row.currency, occurred_at=utcnow())
    await outbox.add(session, CONVERSIONS, new_envelope(
        event_type=event_type, producer=SERVICE, aggregate_id=str(row.id), tenant_id=row.tenant_id, payload=payload))


def _share_text(share: Fraction) -> str:
    """The share as a decimal string (the contract's `credit_share`), to 6 places."""
    return format(Decimal(share.numerator) / Decimal(share.denominator), ".6f").rstrip("0").rstrip(".") or "0"


async def performance_due(session: AsyncSession, creator_id: uuid.UUID, currency: str) -> None:
    """Note that the creator's sales record in `currency` changed: the performance worker publishes
    it (crediting/performance.py). Bumping `version` tells a worker that read the record before
    this transaction commits to leave the note for its next round."""
    noted = transaction_memo(session, "attribution.performance_due")
    if (creator_id, currency) in noted:
        return  # one note per transaction is enough: it is seen when the transaction commits
    await session.execute(_PERFORMANCE_DUE, [{"creator_id": creator_id, "currency": currency, "version": 1}])
    noted[(creator_id, currency)] = True


async def ledger_entries(session, row: PartnerOrder) -> list[LedgerEntry]:
    return list((await session.execute(
        select(LedgerEntry).where(LedgerEntry.source == ledger_source(row), LedgerEntry.order_id == row.order_id)
        .order_by(LedgerEntry.created_at))).scalars())
