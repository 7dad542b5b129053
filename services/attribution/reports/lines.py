"""A campaign's report by creator, platform or day: clicks, orders, revenue, AOV, conversion rate,
commission by state, cost, CPA, ROAS and ROI per line — from the same tables as every other
figure (aggregates grouped in PostgreSQL, never a loop over orders).

- **Keys.** `creator`: the credited creator (commission: each creator of a split order its own
  line, from the ledger). `platform`: where the touch that led the order was shared — its code's
  or link's `platform` (`unspecified` when not said); clicks by their link's. `day`: the UTC day
  an order was placed, a click made.
- **Money per currency.** Each line has a row per currency; amounts of different currencies are
  never added unless the report is asked in one currency (`currency=EUR`) and the tenant's dated
  rates (services/attribution/fx) cover every amount: each order's revenue and commission at the
  rate of its day, fees and products given at the rate of the period's last day (today when open);
  the rates used are listed.
- **Cost** is in the campaign's currency: fees and products given (by creator: its enrolment; by
  platform: each enrolment's spread over its deliverables' platforms by count, to the minor unit;
  by day: none, they are not dated, and the line says so) plus the line's net commission.
- **Ratios** are null with the reason when their denominator is zero or in another currency.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from sqlalchemy import and_, func, literal, literal_column, null, select

from services.attribution.campaign import repository as campaigns
from services.attribution.clicks.models import Click
from services.attribution.codes.models import Code
from services.attribution.crediting.models import OrderCredit
from services.attribution.enrolment.models import Enrolment
from services.attribution.fx.service import Converter
from services.attribution.ledger.models import LedgerEntry
from services.attribution.links.models import Link
from services.attribution.models import split_minor
from services.attribution.orders.models import PartnerOrder
from services.attribution.reports.csvfile import cell
from services.attribution.reports.models import FIGURES
from services.attribution.reports.repository import (
    EVER_END,
    EVER_START,
    FIRST_DAY,
    LAST_DAY,
    LEDGER_FIGURES,
    ORDER_FIGURES,
    midnight,
    order_entries,
    totals,
    whole_days,
)
from shared.db import Reads
from shared.errors import Invalid, NotFound

BY = ("creator", "platform", "day")
UNSPECIFIED = "unspecified"
PLACES = Decimal("0.0001")


def _utc_day(column):
    return func.date(func.timezone("UTC", column))


def _order_platform():
    return func.coalesce(Code.platform, Link.platform, literal(UNSPECIFIED))


def _order_joins(query):
    return (query.join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
            .outerjoin(Code, Code.id == OrderCredit.code_id)
            .outerjoin(Link, and_(OrderCredit.touch_kind == literal_column("'click'"), Link.slug == OrderCredit.touch_label,
                                  Link.campaign_id == OrderCredit.campaign_id)))


def _in_period(campaign_id: uuid.UUID, start: datetime, end: datetime):
    return and_(OrderCredit.campaign_id == campaign_id, OrderCredit.outcome == literal_column("'credited'"),
                PartnerOrder.placed_at >= start, PartnerOrder.placed_at < end)


def _sum(condition):
    return func.coalesce(func.sum(LedgerEntry.amount).filter(condition), 0)


def _raw(by: str, campaign_id: uuid.UUID, start: datetime, end: datetime) -> dict:
    """The statements over the rows themselves, for [start, end)."""
    order_key = {"creator": OrderCredit.creator_id, "platform": _order_platform(), "day": _utc_day(PartnerOrder.placed_at)}[by]
    ledger_key = {"creator": LedgerEntry.creator_id, "platform": _order_platform(), "day": _utc_day(PartnerOrder.placed_at)}[by]
    click_key = {"creator": Click.creator_id, "platform": func.coalesce(Link.platform, literal(UNSPECIFIED)),
                 "day": _utc_day(Click.clicked_at)}[by]
    orders = _order_joins(select(
        order_key.label("key"), PartnerOrder.currency.label("currency"), _utc_day(PartnerOrder.placed_at).label("day"),
        func.count().label("orders"),
        func.count().filter(PartnerOrder.state == literal_column("'cancelled'")).label("cancelled_orders"),
        func.count().filter(OrderCredit.touch_kind == literal_column("'click'")).label("orders_from_clicks"),
        func.coalesce(func.sum(PartnerOrder.basis_minor), 0).label("revenue"),
        func.coalesce(func.sum(PartnerOrder.basis_before_refunds_minor), 0).label("revenue_before_refunds"),
    ).select_from(OrderCredit)).where(_in_period(campaign_id, start, end)).group_by(
        literal_column("1"), PartnerOrder.currency, literal_column("3"))
    commission = LedgerEntry.kind == literal_column("'commission'")
    ledger = _order_joins(select(
        ledger_key.label("key"), LedgerEntry.currency.label("currency"), _utc_day(PartnerOrder.placed_at).label("day"),
        _sum(commission & (LedgerEntry.state == literal_column("'pending'"))).label("commission_pending"),
        _sum(commission & (LedgerEntry.state == literal_column("'approved'"))).label("commission_approved"),
        _sum(commission & (LedgerEntry.state == literal_column("'paid'"))).label("commission_paid"),
        _sum(LedgerEntry.kind == literal_column("'clawback'")).label("clawbacks"),
    ).select_from(OrderCredit)).join(LedgerEntry, order_entries() & (LedgerEntry.campaign_id == campaign_id)).where(_in_period(campaign_id, start, end)).group_by(literal_column("1"), LedgerEntry.currency, literal_column("3"))
    clicks = (select(
        click_key.label("key"),
        func.count().label("total"), func.count().filter(Click.is_unique).label("unique"),
        func.count().filter(Click.flagged).label("flagged"),
    ).select_from(Click).join(Link, Link.id == Click.link_id)
        .where(Click.campaign_id == campaign_id, Click.clicked_at >= start, Click.clicked_at < end)
        .group_by(literal_column("1")))
    return {"orders": orders, "ledger": ledger, "clicks": clicks}


def _totals(by: str, campaign_id: uuid.UUID, days: tuple[date, date], per_day: bool):
    """The running totals (ADR 0051) over the whole days [first, last), by key and currency, and by
    day when `per_day` (amounts converted at each day's rate); else `day` is null."""
    t = totals(lambda m: m.campaign_id == campaign_id)
    key = {"creator": t.c.creator_id, "platform": t.c.platform, "day": t.c.day}[by]
    day = t.c.day if per_day else null().label("day")
    query = (select(key.label("key"), t.c.currency, day.label("day"), *(func.sum(t.c[name]).label(name) for name in FIGURES))
             .where(t.c.day >= days[0], t.c.day < days[1]))
    return query.group_by(key, t.c.currency, t.c.day) if per_day else query.group_by(key, t.c.currency)


def _split(found) -> dict[str, list]:
    """The totals' rows as the raw statements' shapes."""
    out: dict[str, list] = {"orders": [], "ledger": [], "clicks": []}
    for r in found:
        m = r._mapping
        if m["clicks_total"]:
            out["clicks"].append(SimpleNamespace(key=r.key, total=m["clicks_total"], unique=m["clicks_unique"],
                                                 flagged=m["clicks_flagged"]))
        if r.currency == "":
            continue
        if m["orders"]:
            out["orders"].append(SimpleNamespace(key=r.key, currency=r.currency, day=r.day,
                                                 **{name: m[name] for name in ORDER_FIGURES}))
        if any(m[name] for name in LEDGER_FIGURES):
            out["ledger"].append(SimpleNamespace(key=r.key, currency=r.currency, day=r.day,
                                                 **{name: m[name] for name in LEDGER_FIGURES}))
    return out


async def _rows(session, by: str, campaign_id: uuid.UUID, start: datetime | None, end: datetime | None,
                per_day: bool) -> dict[str, list]:
    """Whole days from the running totals, a partial first or last day from the rows."""
    if start is None and end is None:
        days, edges = (FIRST_DAY, LAST_DAY), []
    else:
        start, end = start or EVER_START, end or EVER_END
        days = whole_days(start, end)
        if days is None:
            edges = [(start, end)]
        else:
            edges = [(a, b) for a, b in ((start, midnight(days[0])), (midnight(days[1]), end)) if a < b]
    statements = {"enrolments": select(Enrolment.creator_id, Enrolment.fee_minor, Enrolment.product_value_minor,
                                       Enrolment.deliverables).where(Enrolment.campaign_id == campaign_id)}
    if days is not None:
        statements["totals"] = _totals(by, campaign_id, days, per_day or by == "day")
    for i, (a, b) in enumerate(edges):
        statements.update({f"{name}{i}": q for name, q in _raw(by, campaign_id, a, b).items()})
    if isinstance(session, Reads):  # each read on its own connection: side by side
        found = await asyncio.gather(*(session.execute(q) for q in statements.values()))
        results = {name: result.all() for name, result in zip(statements, found)}
    else:
        results = {name: (await session.execute(q)).all() for name, q in statements.items()}
    out = _split(results.get("totals", ()))
    for i in range(len(edges)):
        for name in ("orders", "ledger", "clicks"):
            out[name] += results[f"{name}{i}"]
    out["enrolments"] = results["enrolments"]
    return out


@dataclass
class _Money:
    orders: int = 0
    cancelled_orders: int = 0
    orders_from_clicks: int = 0
    revenue: Decimal = Decimal(0)
    revenue_before_refunds: Decimal = Decimal(0)
    commission_pending: Decimal = Decimal(0)
    commission_approved: Decimal = Decimal(0)
    commission_paid: Decimal = Decimal(0)
    clawbacks: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    product_value: Decimal = Decimal(0)


@dataclass
class _Line:
    clicks: dict = field(default_factory=lambda: {"total": 0, "unique": 0, "flagged": 0})
    money: dict[str, _Money] = field(default_factory=lambda: defaultdict(_Money))


def _key(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _fee_spread(enrolment) -> dict[str, tuple[int, int]]:
    """An enrolment's fee and product value over its deliverables' platforms, by count, to the minor unit."""
    counts: dict[str, int] = defaultdict(int)
    for d in enrolment.deliverables or ():
        counts[str(d.get("platform") or UNSPECIFIED)] += int(d.get("count") or 1)
    if not counts:
        counts[UNSPECIFIED] = 1
    shares = {p: Fraction(n) for p, n in counts.items()}
    fees, products = split_minor(int(enrolment.fee_minor), shares), split_minor(int(enrolment.product_value_minor), shares)
    return {p: (fees[p], products[p]) for p in shares}


def _ratio(numerator: Decimal, denominator: Decimal) -> str | None:
    return None if not denominator else str((Decimal(numerator) / Decimal(denominator)).quantize(PLACES, ROUND_HALF_EVEN))


def _minor(value: Decimal) -> int:
    return int(Decimal(value).quantize(Decimal(1), ROUND_HALF_EVEN))


def _figures(by: str, currency: str, money: _Money, clicks: dict, campaign_currency: str) -> dict:
    net = money.commission_pending + money.commission_approved + money.commission_paid + money.clawbacks
    kept = money.orders - money.cancelled_orders
    out = {
        "currency": currency, "orders": money.orders, "cancelled_orders": money.cancelled_orders,
        "orders_from_clicks": money.orders_from_clicks,
        "revenue": _minor(money.revenue), "revenue_before_refunds": _minor(money.revenue_before_refunds),
        "commission_pending": _minor(money.commission_pending), "commission_approved": _minor(money.commission_approved),
        "commission_paid": _minor(money.commission_paid), "clawbacks": _minor(money.clawbacks), "net_commission": _minor(net),
    }
    why: dict[str, str] = {}
    out["aov"] = _minor(money.revenue / kept) if kept else None
    if not kept:
        why["aov"] = "no order left that is not cancelled"
    out["conversion_rate"] = _ratio(Decimal(money.orders_from_clicks), Decimal(clicks["unique"]))
    if not clicks["unique"]:
        why["conversion_rate"] = "no unique click to convert from (orders by code alone have none)"
    if currency != campaign_currency:
        for name in ("cost_fees", "cost_product_value", "cost_commission", "cost_total", "cpa", "roas", "roi"):
            out[name] = None
        for name in ("cpa", "roas", "roi"):
            why[name] = (f"the campaign's cost is in {campaign_currency} and this revenue in {currency}: ask the report in "
                         "one currency (currency=) with your dated FX rates")
        out["unavailable"] = why
        return out
    cost = money.fees + money.product_value + net
    out.update(cost_fees=_minor(money.fees), cost_product_value=_minor(money.product_value), cost_commission=_minor(net),
               cost_total=_minor(cost))
    out["cpa"] = _minor(cost / kept) if kept else None
    if not kept:
        why["cpa"] = "no order left that is not cancelled"
    out["roas"] = _ratio(money.revenue, cost)
    out["roi"] = _ratio(money.revenue - cost, cost)
    if not cost:
        why["roas"] = why["roi"] = "the line has no cost"
    if by == "day":
        why["cost_fees"] = "fees and products given are not dated: a day's cost is its commission"
    out["unavailable"] = why
    return out


async def report(session, campaign_id: uuid.UUID, by: str, start: datetime | None, end: datetime | None,
                 currency: str | None) -> dict:
    campaign = await campaigns.get(session, campaign_id)
    if campaign is None:  # unknown, or another tenant's: the same answer
        raise NotFound(f"campaign {campaign_id} does not exist")
    rows = await _rows(session, by, campaign_id, start, end, per_day=currency is not None)
    converter = None
    if currency is not None:
        converter = Converter(currency, "query.currency")
        await converter.load(session, {r.currency for r in rows["orders"]} | {r.currency for r in rows["ledger"]}
                             | {campaign.currency})
    cost_day = min((end or datetime.now(UTC)), datetime.now(UTC)).date()

    def into(amount: int, from_currency: str, day: date) -> tuple[str, Decimal]:
        if converter is None:
            return from_currency, Decimal(amount)
        return currency, Decimal(amount) * converter.factor(from_currency, day)

    lines: dict[str, _Line] = defaultdict(_Line)
    for r in rows["clicks"]:
        line = lines[_key(r.key)]
        for name in ("total", "unique", "flagged"):
            line.clicks[name] += int(getattr(r, name))
    for r in rows["orders"]:
        target, factor_revenue = into(int(r.revenue), r.currency, r.day)
        _, before = into(int(r.revenue_before_refunds), r.currency, r.day)
        m = lines[_key(r.key)].money[target]
        m.orders += int(r.orders)
        m.cancelled_orders += int(r.cancelled_orders)
        m.orders_from_clicks += int(r.orders_from_clicks)
        m.revenue += factor_revenue
        m.revenue_before_refunds += before
    for r in rows["ledger"]:
        for name in ("commission_pending", "commission_approved", "commission_paid", "clawbacks"):
            target, value = into(int(getattr(r, name)), r.currency, r.day)
            m = lines[_key(r.key)].money[target]
            setattr(m, name, getattr(m, name) + value)
    if by != "day":
        for e in rows["enrolments"]:
            spread = {str(e.creator_id): (int(e.fee_minor), int(e.product_value_minor))} if by == "creator" else _fee_spread(e)
            for key, (fees, products) in spread.items():
                if not fees and not products and key not in lines and by == "platform":
                    continue
                target, f = into(fees, campaign.currency, cost_day)
                _, p = into(products, campaign.currency, cost_day)
                m = lines[key].money[target]
                m.fees += f
                m.product_value += p
    cost_currency = currency or campaign.currency
    out_lines = []
    for key in sorted(lines):
        line = lines[key]
        money = [_figures(by, c, m, line.clicks, cost_currency) for c, m in sorted(line.money.items())]
        out_lines.append({"key": key, "clicks": dict(line.clicks), "money": money})
    notes = []
    if not out_lines:
        notes.append("insufficient data: no click, credited order, ledger entry or enrolment in the campaign"
                     + (" in the period" if start or end else ""))
    used = [] if converter is None else [
        {"base": u.base, "quote": u.quote, "on": u.on.isoformat(), "rate": u.rate, "inverted": u.inverted}
        for u in sorted(converter.used.values(), key=lambda u: (u.base, u.quote, u.on))]
    return {"campaign_id": str(campaign_id), "by": by, "campaign_currency": campaign.currency, "currency": currency,
            "from": start, "to": end, "fx_rates_used": used, "notes": notes, "lines": out_lines}


def page(result: dict, limit: int, cursor: str | None) -> dict:
    """`limit` lines after the cursor's key, and the cursor of the next page (none on the last)."""
    after = None
    if cursor:
        try:
            after = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())["after"]
        except Exception:
            raise Invalid("query.cursor", "not a cursor this report gave") from None
    lines = [line for line in result["lines"] if after is None or line["key"] > after]
    shown, more = lines[:limit], len(lines) > limit
    token = base64.urlsafe_b64encode(json.dumps({"after": shown[-1]["key"]}).encode()).decode().rstrip("=") if more else None
    return {**result, "lines": shown, "next_cursor": token}


CSV_FIELDS = (
    "key", "currency", "clicks_total", "clicks_unique", "clicks_flagged", "orders", "cancelled_orders", "orders_from_clicks",
    "revenue",
    "revenue_before_refunds", "aov", "conversion_rate", "commission_pending", "commission_approved", "commission_paid",
    "clawbacks", "net_commission", "cost_fees", "cost_product_value", "cost_commission", "cost_total", "cpa", "roas", "roi",
)


def as_csv(result: dict) -> str:
    """Every line of the report, a row per line and currency (money in minor units, ratios as decimals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow((result["by"],) + CSV_FIELDS[1:])
    for line in result["lines"]:
        rows = line["money"] or [{"currency": ""}]
        for m in rows:
            writer.writerow([cell(v) for v in (
                line["key"], m.get("currency"), line["clicks"]["total"], line["clicks"]["unique"], line["clicks"]["flagged"],
                *(m.get(name) for name in CSV_FIELDS[5:]))])
    return buffer.getvalue()
