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
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, bindparam, exists, false, func, literal, literal_column, or_, select, union_all
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.clicks.models import Click
from services.attribution.crediting.models import CodeHourTotal, CodeMinuteTotal, OrderCredit
from services.attribution.enrolment.models import Enrolment
from services.attribution.fraud.models import HELD, CreatorCustomerKey, FraudReview, FraudSettings
from services.attribution.fraud.rules import Facts, Thresholds, evaluate
from services.attribution.orders import batch
from services.attribution.orders.models import PartnerOrder
from shared import tenancy
from shared.db import Reads, transaction_memo
from shared.errors import NotFound

def thresholds_from(stored: dict | None) -> Thresholds:
    """The tenant's thresholds: what it set over the defaults (a field unknown to this version is ignored)."""
    names = {f.name for f in fields(Thresholds)}
    return Thresholds(**{k: v for k, v in (stored or {}).items() if k in names})


async def thresholds_of(session: AsyncSession | Reads) -> Thresholds:
    stored = (await session.execute(select(FraudSettings.thresholds))).scalar_one_or_none()
    return thresholds_from(stored)


async def _thresholds_this_transaction(session: AsyncSession, tenant_id: uuid.UUID) -> Thresholds:
    """The tenant's thresholds, read once per transaction (a batch of orders judges by one read)."""
    known = transaction_memo(session, "attribution.fraud_thresholds")
    if tenant_id not in known:
        known[tenant_id] = await thresholds_of(session)
    return known[tenant_id]


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


async def _own_keys(session: AsyncSession, tenant_id: uuid.UUID, creator_id: uuid.UUID) -> set[str]:
    """The customer keys the tenant registered as the creator's own, read once per transaction
    (a batch carries several tenants' orders, and a creator id is the same in every tenant)."""
    known = transaction_memo(session, "attribution.creator_customer_keys")
    if (tenant_id, creator_id) not in known:
        known[(tenant_id, creator_id)] = set((await session.execute(select(CreatorCustomerKey.customer_key).where(
            CreatorCustomerKey.creator_id == creator_id))).scalars())
    return known[(tenant_id, creator_id)]


async def facts_of(session: AsyncSession, row: PartnerOrder, decision: OrderCredit, limits: Thresholds) -> Facts:
    """The order's facts for the rules, read in at most five statements."""
    creator = decision.creator_id
    placed = decision.placed_at or row.placed_at
    mine = False
    if row.customer_key:
        mine = row.customer_key in await _own_keys(session, row.tenant_id, creator)
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
        code = await _code_facts(session, decision, placed, placed - timedelta(days=limits.leaked_lookback_days))
    return Facts(placed_at=placed, touch_kind=decision.touch_kind or "", customer_is_creators=bool(mine),
                 click_at=click.clicked_at if click is not None else None, address_clicks=address_clicks,
                 network_clicks=network_clicks, flagged_clicks=len(flagged), flag_reasons=tuple(flagged.values()), **code)


NO_CODE = uuid.UUID(int=0)


def _hour_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _minute_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


async def count_credited(session: AsyncSession, tenant_id: uuid.UUID, decision: OrderCredit) -> None:
    """Add a credit decision just taken to its campaign's hour and minute totals (code_hour_totals,
    code_minute_totals), in the transaction that takes it (crediting/service.py `decide`), before it
    is screened: the facts below include it."""
    row = {
        "tenant_id": tenant_id, "campaign_id": decision.campaign_id, "creator_id": decision.creator_id,
        "code_key": decision.code_id or NO_CODE, "hour": _hour_of(decision.placed_at),
        "minute": _minute_of(decision.placed_at), "country": decision.shipping_country or "", "orders": 1,
        "without_click": int(bool(decision.without_creator_click)), "new_customers": int(decision.new_customer)}
    if batch.add_to_code_totals(session, row):
        return  # written with the batch's others at its end; `_code_facts` adds them meanwhile
    await session.execute(COUNT_CREDITED, [row])
    await session.execute(COUNT_CREDITED_MINUTES, [row])


def _count_credited_statement(table, span):
    statement = insert(table)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[table.campaign_id, table.creator_id, table.code_key, span, table.country],
        set_={"orders": table.orders + excluded.orders,
              "without_click": table.without_click + excluded.without_click,
              "new_customers": table.new_customers + excluded.new_customers})


def _code_facts_statement():
    """The leaked-code rule's facts in one statement, built once (docs/decisions/0057, 0064), read
    from totals only: the lookback's whole hours before the order's hour from the hour totals, the
    order's hour up to the end of its minute from the minute totals. Each group (this code or
    another, by country) carries the velocity window's count; a group of nothing is always there,
    so that count comes back however little the lookback holds."""
    this_code, campaign = bindparam("code", type_=UUID(as_uuid=True)), bindparam("campaign", type_=UUID(as_uuid=True))
    first, last = bindparam("first", type_=DateTime(timezone=True)), bindparam("last", type_=DateTime(timezone=True))
    minute = bindparam("minute", type_=DateTime(timezone=True))
    hours = (select((CodeHourTotal.code_key == this_code).label("mine"), CodeHourTotal.country.label("country"),
                    CodeHourTotal.orders.label("orders"), CodeHourTotal.without_click.label("without"),
                    CodeHourTotal.new_customers.label("new"))
             .where(CodeHourTotal.campaign_id == campaign, CodeHourTotal.hour >= first, CodeHourTotal.hour < last))
    minutes = (select((CodeMinuteTotal.code_key == this_code).label("mine"), CodeMinuteTotal.country.label("country"),
                      CodeMinuteTotal.orders.label("orders"), CodeMinuteTotal.without_click.label("without"),
                      CodeMinuteTotal.new_customers.label("new"))
               .where(CodeMinuteTotal.campaign_id == campaign, CodeMinuteTotal.minute >= last,
                      CodeMinuteTotal.minute <= minute))
    # A group that is always there, of nothing, so the velocity window's count always comes back
    # (the batch's deferred totals may be all there is of the lookback: orders/batch.py).
    nothing = select(literal(False).label("mine"), literal("").label("country"), literal_column("0").label("orders"),
                     literal_column("0").label("without"), literal_column("0").label("new"))
    both = union_all(hours, minutes, nothing).subquery()
    window = (select(func.coalesce(func.sum(CodeMinuteTotal.orders), 0))
              .where(CodeMinuteTotal.code_key == this_code, CodeMinuteTotal.campaign_id == campaign,
                     CodeMinuteTotal.minute >= bindparam("window", type_=DateTime(timezone=True)),
                     CodeMinuteTotal.minute <= minute).scalar_subquery())
    return select(both.c.mine, both.c.country, func.sum(both.c.orders), func.sum(both.c.without), func.sum(both.c.new),
                  window).group_by(both.c.mine, both.c.country)


COUNT_CREDITED = _count_credited_statement(CodeHourTotal, CodeHourTotal.hour)
COUNT_CREDITED_MINUTES = _count_credited_statement(CodeMinuteTotal, CodeMinuteTotal.minute)
_CODE_FACTS = tenancy.built_once(_code_facts_statement())
VELOCITY_MINUTES = 60  # the velocity window: the order's minute so far and this many whole minutes before it


async def _code_facts(session: AsyncSession, decision: OrderCredit, placed: datetime, since: datetime) -> dict:
    """The leaked-code rule's facts: the code's credited orders against the campaign's other
    credited orders, by shipping country, over the lookback — from the start of the UTC hour that
    holds `since` to the end of the minute that holds `placed` — and the code's orders in the
    velocity window, from the start of the minute `VELOCITY_MINUTES` before the order's to the end
    of the order's (docs/decisions/0064). Every order credited so far in those spans counts, this
    one included. Read from the hour and minute totals, so the cost is the hours of the lookback
    and the minutes of the order's hour, however many orders they hold."""
    first, last, minute = _hour_of(since), _hour_of(placed), _minute_of(placed)  # whole hours: [first, last)
    window = minute - timedelta(minutes=VELOCITY_MINUTES)
    params = {"code": decision.code_id, "campaign": decision.campaign_id, "first": first, "last": last,
              "minute": minute, "window": window}
    writes = batch.deferred(session)
    # In a batch that defers its totals, what the statement reads cannot change before the batch's
    # end (its own orders wait in `writes`, added below): asked once per code and minute, not per
    # order. Another transaction's orders committed meanwhile count from the next batch on, as
    # with the batch's other answers (orders/batch.py).
    asked = transaction_memo(session, "attribution.fraud.code_facts") if writes is not None else {}
    key = (tenancy.bound_tenant(session), *params.values())
    found = asked.get(key)
    if found is None:
        with session.no_autoflush:  # totals only: nothing waiting in the session changes them (batch.flush)
            found = (await session.execute(_CODE_FACTS, params)).all()
        if writes is not None:
            asked[key] = found
    spread = [r[:5] for r in found]
    last_hour = found[0][5] if found else 0
    if writes is not None:
        # The campaign's totals the batch has not written yet (orders/batch.py), where the
        # statement reads totals.
        campaign = (key[0], decision.campaign_id)
        for (_, code_key, hour, country), (orders, without, new) in writes.hour_totals.get(campaign, {}).items():
            if first <= hour < last:
                spread.append((code_key == decision.code_id, country, orders, without, new))
        for (_, code_key, at, country), (orders, without, new) in writes.minute_totals.get(campaign, {}).items():
            if at > minute:
                continue
            if at >= last:
                spread.append((code_key == decision.code_id, country, orders, without, new))
            if at >= window and code_key == decision.code_id:
                last_hour += orders
    code = dict(code_orders=0, code_orders_without_click=0, code_new_customers=0, other_orders=0,
                other_new_customers=0, code_countries={}, other_countries={})
    for mine, country, orders, without, new in spread:
        prefix = "code" if mine else "other"
        code[f"{prefix}_orders"] += int(orders)
        code[f"{prefix}_new_customers"] += int(new)
        if mine:
            code["code_orders_without_click"] += int(without)
        if country and orders:
            countries = code[f"{prefix}_countries"]
            countries[country] = countries.get(country, 0) + int(orders)
    code["code_orders_last_hour"] = int(last_hour)
    code["code_orders_before_hour"] = code["code_orders"] - int(last_hour)
    return code


async def screen(session: AsyncSession, row: PartnerOrder, decision: OrderCredit, source: str, *,
                 new: bool = False) -> FraudReview | None:
    """Judge a credited order by the tenant's rules; when any fires, hold it for review (once per
    order). The review, or None when no rule fired. `new`: the decision was taken in this
    transaction, so no review of it can exist yet."""
    if not new:
        kept = (await session.execute(select(FraudReview).where(FraudReview.order_ref == row.id))).scalar_one_or_none()
        if kept is not None:
            return kept
    limits = await _thresholds_this_transaction(session, row.tenant_id)
    findings = evaluate(await facts_of(session, row, decision, limits), limits)
    if not findings:
        return None
    review = FraudReview(id=uuid.uuid4(), order_ref=row.id, source=source, order_id=row.order_id,
                         creator_id=decision.creator_id, campaign_id=decision.campaign_id,
                         findings=[f.as_dict() for f in findings], thresholds=asdict(limits), status=HELD)
    session.add(review)
    await batch.flush(session)
    return review
