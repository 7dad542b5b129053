import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.sharing.models import ShareLink
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

_BY_ID = ReadStatement(select(ShareLink).where(ShareLink.id == bindparam("link_id")))
SORTS = Sorts(ShareLink.id, created_at=ShareLink.created_at)
SORT = "-created_at"
_LIST = PagedList(select(ShareLink), SORTS, creator_id=ShareLink.creator_id)


async def get(session: AsyncSession | Reads, link_id: uuid.UUID) -> ShareLink | None:
    found = await rows(session, _BY_ID, link_id=link_id)
    return found[0] if found else None


async def list_page(session: AsyncSession | Reads, page: PageParams, *, creator_id: uuid.UUID | None) -> list[ShareLink]:
    """Up to page.limit + 1 of the tenant's links, newest first."""
    return await _LIST.fetch(session, page, SORT, creator_id=creator_id)


async def by_token_hash(session: AsyncSession, token_hash: str) -> ShareLink | None:
    """The link whose token hashes to `token_hash`, whoever owns it (the session works across tenants)."""
    return (await session.execute(select(ShareLink).where(ShareLink.token_hash == token_hash))).scalar_one_or_none()
