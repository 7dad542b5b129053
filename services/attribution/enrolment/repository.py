"""Enrolment queries. None names a tenant: shared.tenancy restricts each to the session's."""

import uuid

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.enrolment.models import Enrolment
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(Enrolment.id, created_at=Enrolment.created_at)
DEFAULT_SORT = "created_at"

_ONE = select(Enrolment).where(
    Enrolment.campaign_id == bindparam("campaign_id"), Enrolment.creator_id == bindparam("creator_id")
)
_BY_CREATOR = ReadStatement(_ONE)
_LIST = PagedList(select(Enrolment), SORTS, campaign_id=Enrolment.campaign_id)
_TOTALS = ReadStatement(
    select(
        func.count(Enrolment.id).label("enrolments"),
        func.sum(Enrolment.fee_minor).label("fees"),
        func.sum(Enrolment.product_value_minor).label("product_value"),
    ).where(Enrolment.campaign_id == bindparam("campaign_id"))
)


async def get(
    session: AsyncSession | Reads, campaign_id: uuid.UUID, creator_id: uuid.UUID, *, for_update: bool = False
) -> Enrolment | None:
    """The creator's enrolment in the campaign, or None (also when it is another tenant's)."""
    if for_update:
        query = _ONE.with_for_update()
        return (await session.execute(query, {"campaign_id": campaign_id, "creator_id": creator_id})).scalar_one_or_none()
    found = await rows(session, _BY_CREATOR, campaign_id=campaign_id, creator_id=creator_id)
    return found[0] if found else None


async def list_page(session: AsyncSession | Reads, page: PageParams, campaign_id: uuid.UUID) -> list:
    """Up to page.limit + 1 of the campaign's enrolments, oldest first."""
    return await _LIST.fetch(session, page, DEFAULT_SORT, campaign_id=campaign_id)


async def of_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> list[Enrolment]:
    """Every enrolment of the campaign, for the checks a campaign change makes against them."""
    return list((await session.scalars(select(Enrolment).where(Enrolment.campaign_id == campaign_id))).all())


async def totals(session: AsyncSession | Reads, campaign_id: uuid.UUID) -> tuple[int, int, int]:
    """(enrolments, sum of fees, sum of product value) of the campaign, in its minor units."""
    [row] = await rows(session, _TOTALS, campaign_id=campaign_id)
    # SUM of no rows is NULL: a campaign without creators costs 0.
    return int(row.enrolments), int(row.fees or 0), int(row.product_value or 0)
