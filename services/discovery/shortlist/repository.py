"""Shortlist queries. None of them names a tenant: shared.tenancy restricts every one of them to
the session's (the ORM filter on `Session`, the compiled condition on `ReadSession`)."""

import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator.models import Creator
from services.discovery.shortlist.models import Shortlist, ShortlistEntry
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(Shortlist.id, created_at=Shortlist.created_at)
ENTRY_SORTS = Sorts(ShortlistEntry.creator_id, created_at=ShortlistEntry.created_at)
DEFAULT_SORT = "created_at"

_BY_ID = ReadStatement(select(Shortlist).where(Shortlist.id == bindparam("shortlist_id")))
_LIST = PagedList(select(Shortlist), SORTS)
# An entry with the creator's platform and handle (the shared catalogue), in the order added.
_ENTRIES = PagedList(
    select(
        ShortlistEntry.shortlist_id,
        ShortlistEntry.creator_id,
        ShortlistEntry.note,
        ShortlistEntry.tags,
        ShortlistEntry.created_at,
        ShortlistEntry.updated_at,
        Creator.platform,
        Creator.handle,
    ).join(Creator, Creator.id == ShortlistEntry.creator_id),
    ENTRY_SORTS,
    shortlist_id=ShortlistEntry.shortlist_id,
)


async def get(session: AsyncSession | Reads, shortlist_id: uuid.UUID, *, for_update: bool = False) -> Shortlist | None:
    """The shortlist, or None (also when another tenant's: the caller cannot tell the two apart)."""
    if for_update:
        query = select(Shortlist).where(Shortlist.id == shortlist_id).with_for_update()
        return (await session.execute(query)).scalar_one_or_none()
    found = await rows(session, _BY_ID, shortlist_id=shortlist_id)
    return found[0] if found else None


async def find_by_name(session: AsyncSession, name: str) -> Shortlist | None:
    return (await session.execute(select(Shortlist).where(Shortlist.name == name))).scalar_one_or_none()


async def list_page(session: AsyncSession | Reads, page: PageParams) -> list:
    """Up to page.limit + 1 shortlists, oldest first."""
    return await _LIST.fetch(session, page, DEFAULT_SORT)


async def entry(session: AsyncSession, shortlist_id: uuid.UUID, creator_id: uuid.UUID) -> ShortlistEntry | None:
    return await session.get(ShortlistEntry, (shortlist_id, creator_id))


async def entries_page(session: AsyncSession | Reads, shortlist_id: uuid.UUID, page: PageParams) -> list:
    """Up to page.limit + 1 entries of a shortlist, in the order they were added."""
    return await _ENTRIES.fetch(session, page, DEFAULT_SORT, shortlist_id=shortlist_id)
