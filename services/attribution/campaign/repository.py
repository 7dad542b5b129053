"""Campaign queries. None names a tenant: shared.tenancy restricts each to the session's."""

import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.campaign.models import Campaign
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(Campaign.id, created_at=Campaign.created_at)
DEFAULT_SORT = "created_at"

_BY_ID = ReadStatement(select(Campaign).where(Campaign.id == bindparam("campaign_id")))
_LIST = PagedList(select(Campaign), SORTS, status=Campaign.status)


async def get(session: AsyncSession | Reads, campaign_id: uuid.UUID, *, for_update: bool = False) -> Campaign | None:
    """The campaign, or None (also when it is another tenant's: the two cannot be told apart)."""
    if for_update:
        # FOR NO KEY UPDATE: it serialises the campaign's changes, its enrolments' and its codes'
        # and links' making (codes/service.py), but not the foreign-key checks of rows that only
        # point at the campaign (a code's, a ledger entry's), which a FOR UPDATE blocked: a code
        # made while its creator was unenrolled deadlocked against it.
        query = select(Campaign).where(Campaign.id == campaign_id).with_for_update(key_share=True)
        return (await session.execute(query)).scalar_one_or_none()
    found = await rows(session, _BY_ID, campaign_id=campaign_id)
    return found[0] if found else None


async def list_page(session: AsyncSession | Reads, page: PageParams, *, status: str | None = None) -> list:
    """Up to page.limit + 1 campaigns, oldest first."""
    return await _LIST.fetch(session, page, DEFAULT_SORT, status=status)
