"""Ledger queries. None names a tenant: shared.tenancy restricts each to the session's."""

import uuid

from sqlalchemy import bindparam, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.ledger.models import ClawbackClaim, LedgerEntry, Payout
from services.attribution.reports.models import ReportDelta, ReportTotal
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

DEFAULT_SORT = "created_at"

ENTRY_SORTS = Sorts(LedgerEntry.id, created_at=LedgerEntry.created_at)
_ENTRIES = PagedList(
    select(LedgerEntry), ENTRY_SORTS, creator_id=LedgerEntry.creator_id, campaign_id=LedgerEntry.campaign_id,
    state=LedgerEntry.state, currency=LedgerEntry.currency, payout_id=LedgerEntry.payout_id,
    source=LedgerEntry.source, order_id=LedgerEntry.order_id,
)

CLAIM_SORTS = Sorts(ClawbackClaim.id, created_at=ClawbackClaim.created_at)
_CLAIMS = PagedList(select(ClawbackClaim), CLAIM_SORTS, source=ClawbackClaim.source, order_id=ClawbackClaim.order_id)

PAYOUT_SORTS = Sorts(Payout.id, created_at=Payout.created_at)
_PAYOUTS = PagedList(select(Payout), PAYOUT_SORTS, creator_id=Payout.creator_id, currency=Payout.currency)
_PAYOUT = ReadStatement(select(Payout).where(Payout.id == bindparam("payout_id")))


def _state_sum(state: str):
    # The state as SQL text, not a bound constant: a ReadStatement takes only the request's parameters.
    return func.coalesce(func.sum(LedgerEntry.amount).filter(LedgerEntry.state == literal_column(f"'{state}'")), literal_column("0"))


# Per creator and currency, in the order of (creator_id, currency): never one sum across currencies.
_BALANCE_QUERY = select(
    LedgerEntry.creator_id,
    LedgerEntry.currency,
    _state_sum("pending").label("pending"),
    _state_sum("approved").label("approved"),
    _state_sum("paid").label("paid"),
    func.count().label("entry_count"),
).group_by(LedgerEntry.creator_id, LedgerEntry.currency)
BALANCE_SORTS = Sorts(LedgerEntry.currency, creator_id=LedgerEntry.creator_id)
BALANCE_SORT = "creator_id"
_BALANCES = PagedList(_BALANCE_QUERY, BALANCE_SORTS, creator_id=LedgerEntry.creator_id, currency=LedgerEntry.currency)


async def entries_page(session: AsyncSession | Reads, page: PageParams, **filters) -> list:
    """Up to page.limit + 1 entries, oldest first; filters given as None are left out."""
    return await _ENTRIES.fetch(session, page, DEFAULT_SORT, **filters)


async def payouts_page(session: AsyncSession | Reads, page: PageParams, **filters) -> list:
    return await _PAYOUTS.fetch(session, page, DEFAULT_SORT, **filters)


async def payout(session: AsyncSession | Reads, payout_id: uuid.UUID):
    """The payout batch, or None (also when it is another tenant's)."""
    found = await rows(session, _PAYOUT, payout_id=payout_id)
    return found[0] if found else None


async def balances_page(session: AsyncSession | Reads, page: PageParams, **filters) -> list:
    """Up to page.limit + 1 (creator, currency) balances, by creator id then currency."""
    return await _BALANCES.fetch(session, page, BALANCE_SORT, **filters)


async def claims_page(session: AsyncSession | Reads, page: PageParams, **filters) -> list:
    """Up to page.limit + 1 refunds and cancellations received, oldest first."""
    return await _CLAIMS.fetch(session, page, DEFAULT_SORT, **filters)


async def clawed_back(session: AsyncSession | Reads, claim_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How much each claim has clawed back so far (a positive amount), by claim id."""
    if not claim_ids:
        return {}
    query = (
        select(LedgerEntry.claim_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.claim_id.in_(claim_ids))
        .group_by(LedgerEntry.claim_id)
    )
    return {claim_id: -int(total) for claim_id, total in (await session.execute(query)).all()}


def _net(model):
    return model.commission_pending + model.commission_approved + model.commission_paid + model.clawbacks


def _campaign_net():
    """From the reports' running totals and the deltas not folded in yet, in one statement (ADR
    0051): a campaign's every entry is there, on its order's day or on none, so the sum is the
    ledger's, read from the campaign's creators × platforms × days rather than its entries."""
    campaign, currency = bindparam("campaign_id"), bindparam("currency")
    parts = union_all(*(select(_net(m).label("net")).where(m.campaign_id == campaign, m.currency == currency)
                        for m in (ReportTotal, ReportDelta))).subquery("totals")
    return select(func.coalesce(func.sum(parts.c.net), 0).label("net"))


_CAMPAIGN_COMMISSION = _campaign_net()


async def campaign_commission(session: AsyncSession | Reads, campaign_id: uuid.UUID, currency: str) -> int:
    """The campaign's commission in `currency` (its own), in minor units: every commission entry
    less every clawback, whatever their state. Entries in another currency are never added."""
    # A union in a subquery: through the ORM, whose tenant filter reaches into it.
    found = await session.execute(_CAMPAIGN_COMMISSION, {"campaign_id": campaign_id, "currency": currency})
    return int(found.scalar_one() or 0)
