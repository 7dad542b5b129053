import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator.models import Creator
from shared.pagination import PageParams, Sorts

# The orders GET /creators offers (each also descending with a '-' prefix); NULLs sort last.
SORTS = Sorts(
    Creator.id,
    created_at=Creator.created_at,
    follower_count=Creator.follower_count,
    audit_score=Creator.audit_score,
)
DEFAULT_SORT = "created_at"
Sort = SORTS.literal_type()


async def get(session: AsyncSession, creator_id: uuid.UUID, *, for_update: bool = False) -> Creator | None:
    query = select(Creator).where(Creator.id == creator_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def find_by_handle(session: AsyncSession, platform: str, handle: str) -> Creator | None:
    query = select(Creator).where(Creator.platform == platform, Creator.handle == handle)
    return (await session.execute(query)).scalar_one_or_none()


async def list_page(
    session: AsyncSession, page: PageParams, *, sort: str = DEFAULT_SORT, platform: str | None = None
) -> list[Creator]:
    """Up to page.limit + 1 creators in `sort` order (the extra row tells whether a next page exists)."""
    query = select(Creator)
    if platform is not None:
        query = query.where(Creator.platform == platform)
    return list((await session.execute(SORTS.apply(query, page, sort))).scalars())
