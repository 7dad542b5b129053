"""Commission rule queries. None names a tenant: shared.tenancy restricts each to the session's.

A scope is the campaign's own rule (`creator_id` None: the column IS NULL) or one creator's
override; each query has a statement per scope, since `= NULL` matches nothing."""

import uuid
from datetime import datetime

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.rules.models import CommissionRule
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(CommissionRule.id, version=CommissionRule.version)
DEFAULT_SORT = "version"

_CAMPAIGN = CommissionRule.creator_id.is_(None)
_CREATOR = CommissionRule.creator_id == bindparam("creator_id")
_SCOPE = CommissionRule.campaign_id == bindparam("campaign_id")

_CAMPAIGN_LIST = PagedList(select(CommissionRule).where(_CAMPAIGN), SORTS, campaign_id=CommissionRule.campaign_id)
_CREATOR_LIST = PagedList(
    select(CommissionRule), SORTS, campaign_id=CommissionRule.campaign_id, creator_id=CommissionRule.creator_id
)


def _in_force(scope) -> ReadStatement:
    return ReadStatement(
        select(CommissionRule).where(_SCOPE, scope, CommissionRule.effective_from <= bindparam("at"))
        .order_by(CommissionRule.effective_from.desc()).limit(bindparam("one", 1, type_=Integer))
    )


def _latest(scope):
    return select(CommissionRule).where(_SCOPE, scope).order_by(CommissionRule.version.desc()).limit(1)


_IN_FORCE = {False: _in_force(_CAMPAIGN), True: _in_force(_CREATOR)}
_LATEST = {False: _latest(_CAMPAIGN), True: _latest(_CREATOR)}


async def list_page(session: AsyncSession | Reads, page: PageParams, campaign_id: uuid.UUID,
                    creator_id: uuid.UUID | None = None) -> list:
    """Up to page.limit + 1 versions of the campaign's rule (or of the creator's override), first version first."""
    if creator_id is None:
        return await _CAMPAIGN_LIST.fetch(session, page, DEFAULT_SORT, campaign_id=campaign_id)
    return await _CREATOR_LIST.fetch(session, page, DEFAULT_SORT, campaign_id=campaign_id, creator_id=creator_id)


async def in_force(session: AsyncSession | Reads, campaign_id: uuid.UUID, creator_id: uuid.UUID | None,
                   at: datetime) -> CommissionRule | None:
    """The scope's version in force at `at`: the latest effective at or before it."""
    params = {"campaign_id": campaign_id, "at": at}
    if creator_id is not None:
        params["creator_id"] = creator_id
    found = await rows(session, _IN_FORCE[creator_id is not None], **params)
    return found[0] if found else None


async def versions_for(session: AsyncSession, campaign_id: uuid.UUID, creator_id: uuid.UUID) -> list[CommissionRule]:
    """The versions of both scopes an order of the creator can be paid under: the campaign's rule
    and the creator's override."""
    return list((await session.execute(select(CommissionRule).where(
        CommissionRule.campaign_id == campaign_id,
        CommissionRule.creator_id.is_(None) | (CommissionRule.creator_id == creator_id)))).scalars())


async def count_of_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> int:
    """How many versions the campaign's rule and its overrides have, all scopes together."""
    return (await session.execute(select(func.count()).select_from(CommissionRule).where(
        CommissionRule.campaign_id == campaign_id))).scalar_one()


async def latest(session: AsyncSession, campaign_id: uuid.UUID, creator_id: uuid.UUID | None) -> CommissionRule | None:
    """The scope's newest version (callers hold the campaign's row lock, so it stays the newest)."""
    params = {"campaign_id": campaign_id}
    if creator_id is not None:
        params["creator_id"] = creator_id
    return (await session.execute(_LATEST[creator_id is not None], params)).scalar_one_or_none()
