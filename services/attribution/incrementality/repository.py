"""Holdout test queries: the designs, and the order figures a result is computed from. None names
a tenant: shared.tenancy restricts each to the session's."""

import uuid
from datetime import date, datetime

from sqlalchemy import Date, bindparam, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.crediting.models import OrderCredit
from services.attribution.incrementality.models import HoldoutTest
from services.attribution.orders.models import PartnerOrder
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(HoldoutTest.id, created_at=HoldoutTest.created_at)
DEFAULT_SORT = "created_at"

_BY_ID = ReadStatement(select(HoldoutTest).where(HoldoutTest.id == bindparam("test_id")))
_LIST = PagedList(select(HoldoutTest), SORTS, campaign_id=HoldoutTest.campaign_id)
# The UTC day an order was placed on: the days of a holdout test are UTC days.
_DAY = cast(func.timezone("UTC", PartnerOrder.placed_at), Date)


async def get(session: AsyncSession | Reads, test_id: uuid.UUID) -> HoldoutTest | None:
    """The holdout test, or None (also when it is another tenant's)."""
    found = await rows(session, _BY_ID, test_id=test_id)
    return found[0] if found else None


async def list_page(session: AsyncSession | Reads, page: PageParams, **filters) -> list:
    """Up to page.limit + 1 holdout tests, oldest first, optionally of one campaign."""
    return await _LIST.fetch(session, page, DEFAULT_SORT, **filters)


def _placed(unit: str, codes: list[str], start: datetime, end: datetime):
    """Orders that count: shipped to one of `codes`, placed in [start, end), not cancelled, not a
    partner's test order. The country condition leads so the (tenant, country, placed_at) index
    serves regions too."""
    column = PartnerOrder.shipping_region if unit == "region" else PartnerOrder.shipping_country
    return [
        PartnerOrder.shipping_country.in_(sorted({code[:2] for code in codes})), column.in_(codes),
        PartnerOrder.placed_at >= start, PartnerOrder.placed_at < end,
        PartnerOrder.state == "open", PartnerOrder.test.is_(False),
    ]


async def unit_days(session: AsyncSession, unit: str, codes: list[str], start: datetime,
                    end: datetime) -> list[tuple[str, date, str, int, int]]:
    """(unit, UTC day, currency, orders, revenue in minor units) of the orders that count."""
    column = PartnerOrder.shipping_region if unit == "region" else PartnerOrder.shipping_country
    query = (select(column, _DAY, PartnerOrder.currency, func.count(), func.coalesce(func.sum(PartnerOrder.basis_minor), 0))
             .where(*_placed(unit, codes, start, end)).group_by(column, _DAY, PartnerOrder.currency))
    return [(u, d, c, int(n), int(r)) for u, d, c, n, r in (await session.execute(query)).all()]


async def attributed(session: AsyncSession, unit: str, codes: list[str], start: datetime, end: datetime,
                     campaign_id: uuid.UUID | None) -> list[tuple[str, int, int]]:
    """(currency, orders, revenue) of the orders that count and that crediting attributed to the
    campaign (to any campaign when None)."""
    query = (select(PartnerOrder.currency, func.count(), func.coalesce(func.sum(PartnerOrder.basis_minor), 0))
             .join(OrderCredit, OrderCredit.order_ref == PartnerOrder.id)
             .where(OrderCredit.outcome == "credited", *_placed(unit, codes, start, end))
             .group_by(PartnerOrder.currency).order_by(PartnerOrder.currency))
    if campaign_id is not None:
        query = query.where(OrderCredit.campaign_id == campaign_id)
    return [(c, int(n), int(r)) for c, n, r in (await session.execute(query)).all()]


async def unplaced(session: AsyncSession, unit: str, codes: list[str], start: datetime, end: datetime) -> int:
    """Orders placed in [start, end) that the test might have counted but cannot place: no country
    kept, or (a test by region) shipped to one of its countries with no region kept. Orders shipped
    to a country the test does not cover are not its concern."""
    if unit == "region":
        where = [PartnerOrder.shipping_region.is_(None),
                 or_(PartnerOrder.shipping_country.is_(None),
                     PartnerOrder.shipping_country.in_(sorted({code[:2] for code in codes})))]
    else:
        where = [PartnerOrder.shipping_country.is_(None)]
    query = select(func.count()).select_from(PartnerOrder).where(
        *where, PartnerOrder.placed_at >= start, PartnerOrder.placed_at < end,
        PartnerOrder.state == "open", PartnerOrder.test.is_(False))
    return int((await session.execute(query)).scalar_one())
