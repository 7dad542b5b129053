"""Shortlist queries. None of them names a tenant: shared.tenancy restricts every one of them to
the session's (the ORM filter on `Session`, the compiled condition on `ReadSession`)."""

import uuid

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator.models import Creator
from services.discovery.shortlist.models import Shortlist, ShortlistEntry, StageChange
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(Shortlist.id, created_at=Shortlist.created_at)
ENTRY_SORTS = Sorts(ShortlistEntry.creator_id, created_at=ShortlistEntry.created_at)
DEFAULT_SORT = "created_at"

_BY_ID = ReadStatement(select(Shortlist).where(Shortlist.id == bindparam("shortlist_id")))
_LIST = PagedList(select(Shortlist), SORTS)
CHANGE_SORTS = Sorts(StageChange.id, at=StageChange.at)
CHANGE_SORT = "at"


class _HasTag:
    """The `tag` filter of the entries lists: PagedList filters are `column == :param`, and a tag
    is `:tag = ANY(tags)` (the typed parameter on the left, where PostgreSQL wants it)."""

    def __eq__(self, param):  # type: ignore[override]
        return bindparam(param.key, type_=String) == any_(ShortlistEntry.tags)


_ENTRY_FILTERS = {"shortlist_id": ShortlistEntry.shortlist_id, "stage": ShortlistEntry.stage, "tag": _HasTag()}
_ENTRY_COLUMNS = (
    ShortlistEntry.shortlist_id,
    ShortlistEntry.creator_id,
    ShortlistEntry.note,
    ShortlistEntry.tags,
    ShortlistEntry.stage,
    ShortlistEntry.stage_changed_at,
    ShortlistEntry.created_at,
    ShortlistEntry.updated_at,
)
# An entry with the creator's platform and handle (the shared catalogue), in the order added.
_ENTRIES = PagedList(
    select(*_ENTRY_COLUMNS, Creator.platform, Creator.handle).join(Creator, Creator.id == ShortlistEntry.creator_id),
    ENTRY_SORTS,
    **_ENTRY_FILTERS,
)
# The same with what the CSV export says of each creator.
_EXPORT = PagedList(
    select(
        *_ENTRY_COLUMNS,
        Creator.display_name,
        Creator.platform,
        Creator.handle,
        Creator.follower_count,
        Creator.tier,
        Creator.engagement_rate,
        Creator.country,
        Creator.audit_score,
        Creator.contactable,
    ).join(Creator, Creator.id == ShortlistEntry.creator_id),
    ENTRY_SORTS,
    **_ENTRY_FILTERS,
)
_HISTORY = PagedList(
    select(StageChange), CHANGE_SORTS, shortlist_id=StageChange.shortlist_id, creator_id=StageChange.creator_id
)
# A whole shortlist's history, entry by entry, each in the order it happened (report.py).
_ALL_CHANGES = ReadStatement(
    select(StageChange.creator_id, StageChange.to_stage, StageChange.at)
    .where(StageChange.shortlist_id == bindparam("shortlist_id"))
    .order_by(StageChange.creator_id, StageChange.at, StageChange.id)
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


async def entries_page(
    session: AsyncSession | Reads, shortlist_id: uuid.UUID, page: PageParams, *, stage: str | None = None,
    tag: str | None = None,
) -> list:
    """Up to page.limit + 1 entries of a shortlist, in the order they were added; at `stage`
    and carrying `tag` when given."""
    return await _ENTRIES.fetch(session, page, DEFAULT_SORT, shortlist_id=shortlist_id, stage=stage, tag=tag)


async def export_page(
    session: AsyncSession | Reads, shortlist_id: uuid.UUID, page: PageParams, *, stage: str | None = None,
    tag: str | None = None,
) -> list:
    """`entries_page` with the creator fields of the CSV export."""
    return await _EXPORT.fetch(session, page, DEFAULT_SORT, shortlist_id=shortlist_id, stage=stage, tag=tag)


async def history_page(session: AsyncSession | Reads, shortlist_id: uuid.UUID, creator_id: uuid.UUID, page: PageParams) -> list:
    """Up to page.limit + 1 stage changes of an entry, oldest first."""
    return await _HISTORY.fetch(session, page, CHANGE_SORT, shortlist_id=shortlist_id, creator_id=creator_id)


async def all_changes(session: AsyncSession | Reads, shortlist_id: uuid.UUID) -> list:
    """Every stage change of a shortlist's entries, grouped by entry, each in order."""
    return await rows(session, _ALL_CHANGES, shortlist_id=shortlist_id)


_ENTRY_EXISTS = ReadStatement(
    select(ShortlistEntry.creator_id).where(
        ShortlistEntry.shortlist_id == bindparam("shortlist_id"), ShortlistEntry.creator_id == bindparam("creator_id")
    )
)


async def has_entry(session: AsyncSession | Reads, shortlist_id: uuid.UUID, creator_id: uuid.UUID) -> bool:
    return bool(await rows(session, _ENTRY_EXISTS, shortlist_id=shortlist_id, creator_id=creator_id))
