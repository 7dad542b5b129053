"""The reports' queries: one aggregate statement per figure group (GROUP BY in PostgreSQL, never a
loop over rows), each compiled once (shared.db.ReadStatement) and restricted to the caller's
tenant by shared.tenancy. Every one reads an index that leads with the tenant and the campaign or
the creator (migration 0013; EXPLAIN in tests/attribution/test_reports.py).

`:start` and `:end` are always bound (the whole time line when the caller gave no dates), so one
statement serves both and its range stays a plain index condition.

Whole UTC days are read from the running totals (`report_totals` and the deltas not folded in yet,
in one statement; migration 0022, ADR 0051): a campaign's report costs its rows of creators ×
platforms × days, not its orders. The rows themselves are read only for the part of a period that
does not start or end at midnight UTC (its first and last partial day)."""

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import Date, Select, String, Subquery, bindparam, cast, func, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import UUID

from services.attribution.campaign.models import Campaign
from services.attribution.clicks.models import Click
from services.attribution.crediting.models import OrderCredit
from services.attribution.enrolment.models import Enrolment
from services.attribution.ledger.models import LedgerEntry
from services.attribution.orders.models import PartnerOrder
from services.attribution.reports.models import FIGURES, ReportDelta, ReportTotal
from shared.db import Reads, ReadStatement, rows

# The whole time line: what `from` and `to` are when not given.
EVER_START = datetime(1, 1, 2, tzinfo=UTC)
EVER_END = datetime(9999, 12, 30, tzinfo=UTC)


def _text(value: str):
    # SQL text, not a bound constant: a ReadStatement takes only the request's parameters.
    return literal_column(f"'{value}'")


def _clicks(group):
    return select(
        group,
        func.count().label("total"),
        func.count().filter(Click.is_unique).label("unique"),
        func.count().filter(Click.flagged).label("flagged"),
    ).where(Click.clicked_at >= bindparam("start"), Click.clicked_at < bindparam("end")).group_by(group)


def _orders(*group):
    return (
        select(
            *group,
            PartnerOrder.currency,
            func.count().label("orders"),
            func.count().filter(PartnerOrder.state == _text("cancelled")).label("cancelled_orders"),
            func.sum(PartnerOrder.basis_minor).label("revenue"),
            func.sum(PartnerOrder.basis_before_refunds_minor).label("revenue_before_refunds"),
        )
        .join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
        .where(
            OrderCredit.outcome == _text("credited"),
            PartnerOrder.placed_at >= bindparam("start"),
            PartnerOrder.placed_at < bindparam("end"),
        )
        .group_by(*group, PartnerOrder.currency)
    )


def _sum(kind: str, state: str | None = None):
    condition = LedgerEntry.kind == _text(kind)
    if state is not None:
        condition = condition & (LedgerEntry.state == _text(state))
    return func.coalesce(func.sum(LedgerEntry.amount).filter(condition), literal_column("0"))


def _ledger(*group):
    return select(
        *group,
        LedgerEntry.currency,
        _sum("commission", "pending").label("commission_pending"),
        _sum("commission", "approved").label("commission_approved"),
        _sum("commission", "paid").label("commission_paid"),
        _sum("clawback").label("clawbacks"),
        func.sum(LedgerEntry.amount).label("net_commission"),
    ).group_by(*group, LedgerEntry.currency)


def order_entries():
    """The join condition from an order to its ledger entries: an entry names its order by the
    ledger's source (crediting's `ledger_source`: "<format>:<webhook source id>") and the
    partner's order id, which the ledger's (tenant_id, source, order_id) index looks up."""
    return ((LedgerEntry.source == PartnerOrder.source + literal_column("':'") + cast(PartnerOrder.source_id, String))
            & (LedgerEntry.order_id == PartnerOrder.order_id))


def _ledger_placed(*group):
    """The ledger entries of the credited orders placed in [start, end): an entry names its order by
    the ledger's source (crediting's `ledger_source`: "<format>:<webhook source id>") and the
    partner's order id, which the ledger's (tenant_id, source, order_id) index looks up per order."""
    return (
        _ledger(*group)
        .select_from(OrderCredit)
        .join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
        .join(LedgerEntry, order_entries())
        .where(
            OrderCredit.outcome == _text("credited"),
            PartnerOrder.placed_at >= bindparam("start"),
            PartnerOrder.placed_at < bindparam("end"),
        )
    )


_CAMPAIGN = bindparam("campaign_id", type_=UUID(as_uuid=True))
_CREATOR = bindparam("creator_id", type_=UUID(as_uuid=True))

# One campaign, per creator.
CAMPAIGN_CLICKS = ReadStatement(_clicks(Click.creator_id).where(Click.campaign_id == _CAMPAIGN))
CAMPAIGN_ORDERS = ReadStatement(_orders(OrderCredit.creator_id).where(OrderCredit.campaign_id == _CAMPAIGN))
CAMPAIGN_LEDGER_PLACED = ReadStatement(
    _ledger_placed(LedgerEntry.creator_id).where(OrderCredit.campaign_id == _CAMPAIGN, LedgerEntry.campaign_id == _CAMPAIGN)
)
CAMPAIGN_ENROLMENTS = ReadStatement(
    select(Enrolment.creator_id, Enrolment.fee_minor, Enrolment.product_value_minor).where(Enrolment.campaign_id == _CAMPAIGN)
)

# One creator, per campaign.
CREATOR_CLICKS = ReadStatement(_clicks(Click.campaign_id).where(Click.creator_id == _CREATOR))
CREATOR_ORDERS = ReadStatement(_orders(OrderCredit.campaign_id).where(OrderCredit.creator_id == _CREATOR))
CREATOR_LEDGER_PLACED = ReadStatement(
    # The creator's own entries (a split order's share too, whoever led it), of orders credited to
    # the entry's campaign: as the running totals count them.
    _ledger_placed(LedgerEntry.campaign_id).where(LedgerEntry.creator_id == _CREATOR,
                                                  OrderCredit.campaign_id == LedgerEntry.campaign_id)
)
CREATOR_ENROLMENTS = ReadStatement(
    select(Enrolment.campaign_id, Enrolment.fee_minor, Enrolment.product_value_minor).where(Enrolment.creator_id == _CREATOR)
)


async def _all(session: Reads, statements: dict[str, tuple]) -> dict:
    """Each (statement, params) run; at once when the session is a ReadSession (each statement on a
    pooled connection of its own, so PostgreSQL runs them side by side), else one after another."""
    async def run(statement, params) -> list:
        if isinstance(statement, ReadStatement):
            return await rows(session, statement, **params)
        # A union in a subquery: through the ORM, whose tenant filter reaches into it.
        return (await session.execute(statement, params)).all()

    if isinstance(session, Reads):
        found = await asyncio.gather(*(run(st, params) for st, params in statements.values()))
        return dict(zip(statements, found))
    return {name: await run(st, params) for name, (st, params) in statements.items()}


# --- the running totals -----------------------------------------------------------------------

FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)  # the whole time line, in days
LEDGER_FIGURES = ("commission_pending", "commission_approved", "commission_paid", "clawbacks")
ORDER_FIGURES = ("orders", "cancelled_orders", "orders_from_clicks", "revenue", "revenue_before_refunds")
CLICK_FIGURES = ("clicks_total", "clicks_unique", "clicks_flagged")


def totals(where) -> Subquery:
    """The totals and the deltas not folded in yet, as one row set (read in one statement, so one
    snapshot: a delta is never counted twice nor missed while the worker folds it in)."""
    def part(model):
        return select(model.campaign_id, model.creator_id, model.platform, model.day, model.currency,
                      *(getattr(model, name) for name in FIGURES)).where(where(model))
    return union_all(part(ReportTotal), part(ReportDelta)).subquery("totals")


def whole_days(start: datetime, end: datetime) -> tuple[date, date] | None:
    """The whole UTC days [first, last) inside [start, end); None when there is none."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if start.time() == time(0):
        first = start.date()
    elif start.date() < date.max:
        first = start.date() + timedelta(days=1)
    else:  # within 9999-12-31: no whole day after it
        return None
    last = end.date()
    return (first, last) if first < last else None


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _figures_by(group: str, where) -> Select:
    """Per `group` (creator_id or campaign_id) and currency: every figure over the days
    [:first, :last), and the net commission ever (entries of no credited order included)."""
    t = totals(where)
    in_days = (t.c.day >= bindparam("first", type_=Date)) & (t.c.day < bindparam("last", type_=Date))
    ever = sum((t.c[name] for name in LEDGER_FIGURES[1:]), t.c[LEDGER_FIGURES[0]])
    return (
        select(t.c[group].label("key"), t.c.currency,
               *(func.coalesce(func.sum(t.c[name]).filter(in_days), 0).label(name) for name in FIGURES),
               *(func.coalesce(func.sum(t.c[name]), 0).label(f"{name}_ever") for name in LEDGER_FIGURES),
               func.coalesce(func.sum(ever), 0).label("net_ever"))
        .group_by(t.c[group], t.c.currency)
    )


CAMPAIGN_TOTALS = _figures_by("creator_id", lambda m: m.campaign_id == _CAMPAIGN)
CREATOR_TOTALS = _figures_by("campaign_id", lambda m: m.creator_id == _CREATOR)


def _split(found: list, key: str, dated: bool) -> dict[str, list]:
    """The totals' rows as the row statements' shapes: clicks, orders, ledger (in the days) and
    ledger ever, each row naming its group by `key`."""
    out: dict[str, list] = {"clicks": [], "orders": [], "ledger": [], "ledger_ever": []}
    for r in found:
        m = r._mapping
        if m["clicks_total"]:
            out["clicks"].append(SimpleNamespace(**{key: m["key"]}, total=m["clicks_total"], unique=m["clicks_unique"],
                                                 flagged=m["clicks_flagged"]))
        if r.currency == "":
            continue
        if m["orders"]:
            out["orders"].append(SimpleNamespace(**{key: m["key"]}, currency=r.currency, orders=m["orders"],
                                                 cancelled_orders=m["cancelled_orders"], revenue=m["revenue"],
                                                 revenue_before_refunds=m["revenue_before_refunds"]))
        ledger = {name: m[name] for name in LEDGER_FIGURES}
        if any(ledger.values()):
            out["ledger"].append(SimpleNamespace(**{key: m["key"]}, currency=r.currency, **ledger,
                                                 net_commission=sum(ledger.values())))
        ever = {name: m[f"{name}_ever"] for name in LEDGER_FIGURES}
        if any(ever.values()):
            out["ledger_ever"].append(SimpleNamespace(**{key: m["key"]}, currency=r.currency, **ever,
                                                      net_commission=m["net_ever"]))
    if not dated:
        out["ledger"] = out["ledger_ever"]
    return out


async def _figures(session: Reads, key: str, ident: dict, row_statements: tuple, totals_statement: Select,
                   enrolments: ReadStatement, start: datetime, end: datetime, dated: bool) -> dict:
    """The whole days of the period (all of them when undated) and the ledger ever from the totals;
    a partial first or last day from the rows."""
    clicks, orders, ledger_placed = row_statements
    days = (FIRST_DAY, LAST_DAY) if not dated else whole_days(start, end)
    if days is None:  # less than a whole day: no day from the totals (only the ledger ever)
        days, edges = (FIRST_DAY, FIRST_DAY), [(start, end)]
    else:
        edges = [] if not dated else [(a, b) for a, b in ((start, midnight(days[0])), (midnight(days[1]), end)) if a < b]
    statements: dict[str, tuple] = {"enrolments": (enrolments, ident),
                                    "totals": (totals_statement, {**ident, "first": days[0], "last": days[1]})}
    for i, (a, b) in enumerate(edges):
        params = {**ident, "start": a, "end": b}
        statements.update({f"clicks{i}": (clicks, params), f"orders{i}": (orders, params),
                           f"ledger{i}": (ledger_placed, params)})
    found = await _all(session, statements)
    out = _split(found["totals"], key, dated)
    for i in range(len(edges)):
        for name in ("clicks", "orders", "ledger"):
            out[name] = out[name] + list(found[f"{name}{i}"])
    out["enrolments"] = found["enrolments"]
    return out


async def campaign_figures(session: Reads, campaign_id: uuid.UUID, start: datetime, end: datetime, dated: bool) -> dict:
    """The campaign's rows by creator: clicks, orders, ledger (in the period, and ever) and enrolments."""
    return await _figures(session, "creator_id", {"campaign_id": campaign_id},
                          (CAMPAIGN_CLICKS, CAMPAIGN_ORDERS, CAMPAIGN_LEDGER_PLACED), CAMPAIGN_TOTALS,
                          CAMPAIGN_ENROLMENTS, start, end, dated)


async def creator_figures(session: Reads, creator_id: uuid.UUID, start: datetime, end: datetime, dated: bool) -> dict:
    """The creator's rows by campaign, as `campaign_figures` gives a campaign's by creator."""
    return await _figures(session, "campaign_id", {"creator_id": creator_id},
                          (CREATOR_CLICKS, CREATOR_ORDERS, CREATOR_LEDGER_PLACED), CREATOR_TOTALS,
                          CREATOR_ENROLMENTS, start, end, dated)


async def campaigns(session: Reads, campaign_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    """(name, currency) of each of the tenant's campaigns among `campaign_ids`."""
    if not campaign_ids:
        return {}
    found = await session.execute(select(Campaign.id, Campaign.name, Campaign.currency).where(Campaign.id.in_(campaign_ids)))
    return {row.id: (row.name, row.currency) for row in found}
