"""The rows a campaign's customer paths are built from: one statement per table (orders, ledger,
clicks, codes), each compiled once (shared.db.ReadStatement) and restricted to the caller's tenant
by shared.tenancy, never a query per order or per visitor.

- `ORDERS`: the orders credited to the campaign and placed in [start, end), not cancelled, oldest
  first, at most `limit` (the caller asks for one more than its cap to know it was reached).
- `LEDGER`: each of those orders' net commission in the ledger (commissions + clawbacks), by the
  ledger's link to an order (crediting's `ledger_source` and the partner's order id).
- `CLICKS`: the clicks on the campaign's links in [start, end), with the link's window and
  revocation; oldest first, at most `limit`.
- `CLICKS_BEFORE`: the clicks before the start that an order in the period could still take up:
  from `lookback` (the start less the longest attribution window), each inside its own link's
  window before the start; newest first (the nearest matter most), at most `limit`. Apart from
  `CLICKS`, so clicks before the period never use up the period's cap.
- `CODES`: the campaign's codes.
"""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import UUID

from services.attribution.clicks.models import Click
from services.attribution.codes.models import Code
from services.attribution.crediting.models import OrderCredit
from services.attribution.ledger.models import LedgerEntry
from services.attribution.links.models import Link
from services.attribution.orders.models import PartnerOrder
from services.attribution.reports.repository import order_entries
from shared.db import Reads, ReadStatement, rows

_CAMPAIGN = bindparam("campaign_id", type_=UUID(as_uuid=True))


def _text(value: str):
    # SQL text, not a bound constant: a ReadStatement takes only the request's parameters.
    return literal_column(f"'{value}'")


def _credited_in_period():
    return (
        (OrderCredit.campaign_id == _CAMPAIGN)
        & (OrderCredit.outcome == _text("credited"))
        & (PartnerOrder.placed_at >= bindparam("start"))
        & (PartnerOrder.placed_at < bindparam("end"))
        & (PartnerOrder.state != _text("cancelled"))
    )


ORDERS = ReadStatement(
    select(PartnerOrder.id, PartnerOrder.placed_at, PartnerOrder.currency, PartnerOrder.basis_minor,
           PartnerOrder.codes, PartnerOrder.click_ids)
    .select_from(OrderCredit)
    .join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
    .where(_credited_in_period())
    .order_by(PartnerOrder.placed_at, PartnerOrder.id)
    .limit(bindparam("limit"))
)

LEDGER = ReadStatement(
    select(PartnerOrder.id, LedgerEntry.currency, func.sum(LedgerEntry.amount).label("commission"))
    .select_from(OrderCredit)
    .join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
    .join(LedgerEntry, order_entries())
    .where(_credited_in_period(), LedgerEntry.campaign_id == _CAMPAIGN)
    .group_by(PartnerOrder.id, LedgerEntry.currency)
)

_CLICK_ROWS = (
    select(Click.id, Click.visitor_hash, Click.creator_id, Click.clicked_at, Click.flagged, Link.window_days,
           Link.revoked_at)
    .join(Link, Link.id == Click.link_id)
)
_START = bindparam("start", type_=DateTime(timezone=True))

CLICKS = ReadStatement(
    _CLICK_ROWS.where(Click.campaign_id == _CAMPAIGN, Click.clicked_at >= _START, Click.clicked_at < bindparam("end"))
    .order_by(Click.clicked_at, Click.id)
    .limit(bindparam("limit"))
)

CLICKS_BEFORE = ReadStatement(
    _CLICK_ROWS.where(
        Click.campaign_id == _CAMPAIGN,
        Click.clicked_at >= bindparam("lookback"),
        Click.clicked_at >= _START - Link.window_days * literal_column("interval '1 day'"),
        Click.clicked_at < _START,
    )
    .order_by(Click.clicked_at.desc(), Click.id.desc())
    .limit(bindparam("limit"))
)

CODES = ReadStatement(
    select(Code.code, Code.creator_id, Code.revoked_at, Code.expires_at).where(Code.campaign_id == _CAMPAIGN)
)


async def orders(session: Reads, campaign_id: uuid.UUID, start: datetime, end: datetime, limit: int) -> list:
    return await rows(session, ORDERS, campaign_id=campaign_id, start=start, end=end, limit=limit)


async def commissions(session: Reads, campaign_id: uuid.UUID, start: datetime, end: datetime) -> list:
    return await rows(session, LEDGER, campaign_id=campaign_id, start=start, end=end)


async def clicks(session: Reads, campaign_id: uuid.UUID, start: datetime, end: datetime, limit: int) -> list:
    return await rows(session, CLICKS, campaign_id=campaign_id, start=start, end=end, limit=limit)


async def clicks_before(session: Reads, campaign_id: uuid.UUID, lookback: datetime, start: datetime, limit: int) -> list:
    return await rows(session, CLICKS_BEFORE, campaign_id=campaign_id, lookback=lookback, start=start, limit=limit)


async def codes(session: Reads, campaign_id: uuid.UUID) -> list:
    return await rows(session, CODES, campaign_id=campaign_id)
