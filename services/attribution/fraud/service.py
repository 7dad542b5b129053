"""The fraud rules at work: gather a credited order's facts (a handful of set-based queries, each
on an index), evaluate them (rules.py), and hold the order's commission for review when a rule
fires (review.py: an operator's decision releases it or reverses it).

Called by crediting once, when the order is first credited (crediting/service.py `decide`), in
the same transaction as its decision and before its commission is written: a held order's
commission is never approvable, not even for an instant. The review is unique per order, so a
replay finds it and changes nothing. Thresholds changed later judge later orders only.

While a review is `held`, the ledger's approval (`approve_due`, and a payout's own approval)
skips every entry of its order (ledger/service.py): they stay `pending`, in no payout. Approved:
the entries follow the normal path (approved once their hold ends). Rejected: a clawback of all
of the order's commission is appended (a claim `fraud-review:<id>`, as a cancellation is), so the
ledger's entries stay append-only and its totals exact; commission and clawback are then
approved together and net to zero.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, fields
from datetime import timedelta

from sqlalchemy import String, and_, any_, exists, false, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.clicks.models import Click
from services.attribution.crediting.models import OrderCredit
from services.attribution.enrolment.models import Enrolment
from services.attribution.fraud.models import HELD, CreatorCustomerKey, FraudReview, FraudSettings
from services.attribution.fraud.rules import Facts, Thresholds, evaluate
from services.attribution.orders.models import PartnerOrder
from shared import tenancy
from shared.db import Reads
from shared.errors import NotFound

def thresholds_from(stored: dict | None) -> Thresholds:
    """The tenant's thresholds: what it set over the defaults (a field unknown to this version is ignored)."""
    names = {f.name for f in fields(Thresholds)}
    return Thresholds(**{k: v for k, v in (stored or {}).items() if k in names})


async def thresholds_of(session: AsyncSession | Reads) -> Thresholds:
    stored = (await session.execute(select(FraudSettings.thresholds))).scalar_one_or_none()
    return thresholds_from(stored)


async def save_thresholds(session: AsyncSession, changes: dict) -> Thresholds:
    """Set some thresholds, keeping the others: the thresholds now in force."""
    merged = thresholds_from({**asdict(await thresholds_of(session)), **changes})
    statement = insert(FraudSettings)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[FraudSettings.tenant_id],
        set_={"thresholds": statement.excluded.thresholds, "updated_at": func.now()}),
        [{"tenant_id": tenancy.bound_tenant(session), "thresholds": asdict(merged)}])
    return merged


async def register_customer_key(session: AsyncSession, creator_id: uuid.UUID, customer_key: str) -> bool:
    """Record `customer_key` as the creator's own; False when it already was. NotFound for a
    creator on none of the tenant's campaigns (whose orders it never credits)."""
    if not (await session.execute(select(exists().where(Enrolment.creator_id == creator_id)))).scalar():
        raise NotFound(f"creator {creator_id} is on none of your campaigns")
    result = await session.execute(
        insert(CreatorCustomerKey).on_conflict_do_nothing(
            index_elements=[CreatorCustomerKey.tenant_id, CreatorCustomerKey.creator_id, CreatorCustomerKey.customer_key])
        .returning(CreatorCustomerKey.id),
        {"id": uuid.uuid4(), "tenant_id": tenancy.bound_tenant(session), "creator_id": creator_id,
         "customer_key": customer_key})
    return result.first() is not None


def _click_ids(row: PartnerOrder) -> list[uuid.UUID]:
    out = []
    for value in row.click_ids or ():
        try:
            out.append(uuid.UUID(value))
        except (ValueError, AttributeError):
            continue
    return out


async def facts_of(session: AsyncSession, row: PartnerOrder, decision: OrderCredit, limits: Thresholds) -> Facts:
    """The order's facts for the rules, read in at most five statements."""
    creator = decision.creator_id
    placed = decision.placed_at or row.placed_at
    mine = False
    if row.customer_key:
        mine = (await session.execute(select(exists().where(
            CreatorCustomerKey.creator_id == creator, CreatorCustomerKey.customer_key == row.customer_key)))).scalar()
    order_clicks = []
    ids = _click_ids(row)
    if ids:
        order_clicks = list((await session.execute(
            select(Click.id, Click.creator_id, Click.clicked_at, Click.visitor_hash, Click.network_hash, Click.flagged,
                   Click.flag_reason).where(Click.id.in_(ids)))).all())
    # The credited click: the creator's latest click the order carries (what last touch credits).
    theirs = sorted((c for c in order_clicks if c.creator_id == creator and c.clicked_at <= placed + timedelta(minutes=1)),
                    key=lambda c: c.clicked_at)
    click = theirs[-1] if theirs else None
    address_clicks = network_clicks = None
    if click is not None and (click.visitor_hash or click.network_hash):
        span = timedelta(minutes=limits.burst_minutes)
        same_visitor = Click.visitor_hash == click.visitor_hash if click.visitor_hash else false()
        same_network = Click.network_hash == click.network_hash if click.network_hash else false()
        by_visitor, by_network = (await session.execute(
            select(func.count().filter(same_visitor), func.count().filter(same_network))
            .where(Click.creator_id == creator, Click.clicked_at.between(click.clicked_at - span, click.clicked_at + span),
                   or_(same_visitor, same_network)))).one()
        address_clicks = int(by_visitor) if click.visitor_hash else None
        network_clicks = int(by_network) if click.network_hash else None
    # Flagged clicks on the creator's links from the order's visitors or their networks, and the
    # order's own flagged clicks (never credited, but they show who was behind the order).
    visitors = {c.visitor_hash for c in order_clicks if c.visitor_hash}
    networks = {c.network_hash for c in order_clicks if c.network_hash}
    flagged = {c.id: c.flag_reason or "flagged" for c in order_clicks if c.flagged}
    if visitors or networks:
        since = placed - timedelta(hours=limits.bot_lookback_hours)
        who = [c for c in (Click.visitor_hash.in_(visitors) if visitors else None,
                           Click.network_hash.in_(networks) if networks else None) if c is not None]
        for click_id, reason in (await session.execute(select(Click.id, Click.flag_reason).where(
                Click.creator_id == creator, Click.flagged.is_(True), Click.clicked_at.between(since, placed),
                or_(*who)))).all():
            flagged[click_id] = reason or "flagged"
    code = {}
    if decision.touch_kind == "code" and decision.code_id is not None:
        since = placed - timedelta(days=limits.leaked_lookback_days)
        hour = placed - timedelta(hours=1)
        creators_click = exists().where(
            Click.id.cast(String) == any_(PartnerOrder.click_ids), Click.creator_id == creator)
        total, without, last_hour, before = (await session.execute(
            select(func.count(), func.count().filter(~creators_click), func.count().filter(OrderCredit.placed_at > hour),
                   func.count().filter(OrderCredit.placed_at <= hour))
            .select_from(OrderCredit).join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
            .where(OrderCredit.code_id == decision.code_id, OrderCredit.outcome == "credited",
                   and_(OrderCredit.placed_at > since, OrderCredit.placed_at <= placed)))).one()
        code = dict(code_orders=total, code_orders_without_click=without, code_orders_last_hour=last_hour,
                    code_orders_before_hour=before)
        # Who the code reaches against the campaign's other orders in the same lookback: new
        # customers, and shipping countries (one statement, grouped).
        this_code = OrderCredit.code_id == decision.code_id
        spread = (await session.execute(
            select(func.coalesce(this_code, False).label("this_code"), PartnerOrder.shipping_country, func.count(),
                   func.count().filter(OrderCredit.new_customer.is_(True)))
            .select_from(OrderCredit).join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
            .where(OrderCredit.campaign_id == decision.campaign_id, OrderCredit.outcome == "credited",
                   OrderCredit.placed_at > since, OrderCredit.placed_at <= placed)
            .group_by(literal_column("1"), PartnerOrder.shipping_country))).all()
        for is_mine, country, count, new in spread:
            prefix = "code" if is_mine else "other"
            if is_mine:
                code["code_new_customers"] = code.get("code_new_customers", 0) + int(new)
            else:
                code["other_orders"] = code.get("other_orders", 0) + int(count)
                code["other_new_customers"] = code.get("other_new_customers", 0) + int(new)
            if country:
                countries = code.setdefault(f"{prefix}_countries", {})
                countries[country] = countries.get(country, 0) + int(count)
        code.setdefault("code_new_customers", 0)
        code.setdefault("other_orders", 0)
        code.setdefault("other_new_customers", 0)
        code.setdefault("code_countries", {})
        code.setdefault("other_countries", {})
    return Facts(placed_at=placed, touch_kind=decision.touch_kind or "", customer_is_creators=bool(mine),
                 click_at=click.clicked_at if click is not None else None, address_clicks=address_clicks,
                 network_clicks=network_clicks, flagged_clicks=len(flagged), flag_reasons=tuple(flagged.values()), **code)


async def screen(session: AsyncSession, row: PartnerOrder, decision: OrderCredit, source: str) -> FraudReview | None:
    """Judge a credited order by the tenant's rules; when any fires, hold it for review (once per
    order). The review, or None when no rule fired."""
    kept = (await session.execute(select(FraudReview).where(FraudReview.order_ref == row.id))).scalar_one_or_none()
    if kept is not None:
        return kept
    limits = await thresholds_of(session)
    findings = evaluate(await facts_of(session, row, decision, limits), limits)
    if not findings:
        return None
    review = FraudReview(id=uuid.uuid4(), order_ref=row.id, source=source, order_id=row.order_id,
                         creator_id=decision.creator_id, campaign_id=decision.campaign_id,
                         findings=[f.as_dict() for f in findings], thresholds=asdict(limits), status=HELD)
    session.add(review)
    await session.flush()
    return review
