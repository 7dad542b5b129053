import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator.models import Account, Creator
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

# The orders GET /creators offers (each also descending with a '-' prefix); NULLs sort last.
SORTS = Sorts(
    Creator.id,
    created_at=Creator.created_at,
    follower_count=Creator.follower_count,
    audit_score=Creator.audit_score,
)
DEFAULT_SORT = "created_at"
Sort = SORTS.literal_type()

# Built and compiled once (shared.db.ReadStatement): the read path runs only the SQL.
_BY_ID = ReadStatement(select(Creator).where(Creator.id == bindparam("creator_id")))
_LIST = PagedList(select(Creator), SORTS, platform=Creator.platform)


async def get(session: AsyncSession | Reads, creator_id: uuid.UUID, *, for_update: bool = False) -> Creator | None:
    """The creator, or None. Through a `ReadSession` a `shared.db.Row` with the same attributes."""
    if for_update:
        query = select(Creator).where(Creator.id == creator_id).with_for_update()
        return (await session.execute(query)).scalar_one_or_none()
    found = await rows(session, _BY_ID, creator_id=creator_id)
    return found[0] if found else None


async def find_by_handle(session: AsyncSession, platform: str, handle: str) -> Creator | None:
    query = select(Creator).where(Creator.platform == platform, Creator.handle == handle)
    return (await session.execute(query)).scalar_one_or_none()


async def list_page(
    session: AsyncSession | Reads, page: PageParams, *, sort: str = DEFAULT_SORT, platform: str | None = None
) -> list[Creator]:
    """Up to page.limit + 1 creators in `sort` order (the extra row tells whether a next page exists)."""
    return await _LIST.fetch(session, page, sort, platform=platform)


async def find_account(session: AsyncSession, platform: str, handle: str) -> Account | None:
    query = select(Account).where(Account.platform == platform, Account.handle == handle).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()
