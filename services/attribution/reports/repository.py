"""The reports' queries: one aggregate statement per figure group (GROUP BY in PostgreSQL, never a
loop over rows), each compiled once (shared.db.ReadStatement) and restricted to the caller's
tenant by shared.tenancy. Every one reads an index that leads with the tenant and the campaign or
the creator (migration 0013; EXPLAIN in tests/attribution/test_reports.py).

`:start` and `:end` are always bound (the whole time line when the caller gave no dates), so one
statement serves both and its range stays a plain index condition."""

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import String, bindparam, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import UUID

from services.attribution.campaign.models import Campaign
from services.attribution.clicks.models import Click
from services.attribution.crediting.models import OrderCredit
from services.attribution.enrolment.models import Enrolment
from services.attribution.ledger.models import LedgerEntry
from services.attribution.orders.models import PartnerOrder
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
CAMPAIGN_LEDGER = ReadStatement(_ledger(LedgerEntry.creator_id).where(LedgerEntry.campaign_id == _CAMPAIGN))
CAMPAIGN_LEDGER_PLACED = ReadStatement(
    _ledger_placed(LedgerEntry.creator_id).where(OrderCredit.campaign_id == _CAMPAIGN, LedgerEntry.campaign_id == _CAMPAIGN)
)
CAMPAIGN_ENROLMENTS = ReadStatement(
    select(Enrolment.creator_id, Enrolment.fee_minor, Enrolment.product_value_minor).where(Enrolment.campaign_id == _CAMPAIGN)
)

# One creator, per campaign.
CREATOR_CLICKS = ReadStatement(_clicks(Click.campaign_id).where(Click.creator_id == _CREATOR))
CREATOR_ORDERS = ReadStatement(_orders(OrderCredit.campaign_id).where(OrderCredit.creator_id == _CREATOR))
CREATOR_LEDGER = ReadStatement(_ledger(LedgerEntry.campaign_id).where(LedgerEntry.creator_id == _CREATOR))
CREATOR_LEDGER_PLACED = ReadStatement(
    _ledger_placed(LedgerEntry.campaign_id).where(OrderCredit.creator_id == _CREATOR, LedgerEntry.creator_id == _CREATOR)
)
CREATOR_ENROLMENTS = ReadStatement(
    select(Enrolment.campaign_id, Enrolment.fee_minor, Enrolment.product_value_minor).where(Enrolment.creator_id == _CREATOR)
)


async def _all(session: Reads, statements: dict[str, tuple]) -> dict:
    """Each (statement, params) run; at once when the session is a ReadSession (each statement on a
    pooled connection of its own, so PostgreSQL runs them side by side), else one after another."""
    if isinstance(session, Reads):
        found = await asyncio.gather(*(rows(session, st, **params) for st, params in statements.values()))
        return dict(zip(statements, found))
    return {name: await rows(session, st, **params) for name, (st, params) in statements.items()}


async def campaign_figures(session: Reads, campaign_id: uuid.UUID, start: datetime, end: datetime, dated: bool) -> dict:
    """The campaign's rows by creator: clicks, orders, ledger (in the period, and ever) and enrolments."""
    params = {"campaign_id": campaign_id, "start": start, "end": end}
    found = await _all(session, {
        "clicks": (CAMPAIGN_CLICKS, params), "orders": (CAMPAIGN_ORDERS, params),
        "ledger_ever": (CAMPAIGN_LEDGER, {"campaign_id": campaign_id}),
        **({"ledger": (CAMPAIGN_LEDGER_PLACED, params)} if dated else {}),
        "enrolments": (CAMPAIGN_ENROLMENTS, {"campaign_id": campaign_id}),
    })
    found.setdefault("ledger", found["ledger_ever"])
    return found


async def creator_figures(session: Reads, creator_id: uuid.UUID, start: datetime, end: datetime, dated: bool) -> dict:
    """The creator's rows by campaign, as `campaign_figures` gives a campaign's by creator."""
    params = {"creator_id": creator_id, "start": start, "end": end}
    found = await _all(session, {
        "clicks": (CREATOR_CLICKS, params), "orders": (CREATOR_ORDERS, params),
        "ledger_ever": (CREATOR_LEDGER, {"creator_id": creator_id}),
        **({"ledger": (CREATOR_LEDGER_PLACED, params)} if dated else {}),
        "enrolments": (CREATOR_ENROLMENTS, {"creator_id": creator_id}),
    })
    found.setdefault("ledger", found["ledger_ever"])
    return found


async def campaigns(session: Reads, campaign_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    """(name, currency) of each of the tenant's campaigns among `campaign_ids`."""
    if not campaign_ids:
        return {}
    found = await session.execute(select(Campaign.id, Campaign.name, Campaign.currency).where(Campaign.id.in_(campaign_ids)))
    return {row.id: (row.name, row.currency) for row in found}
