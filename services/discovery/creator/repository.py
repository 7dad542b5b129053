import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator.models import Creator
from shared.pagination import PageParams, keyset


async def get(session: AsyncSession, creator_id: uuid.UUID, *, for_update: bool = False) -> Creator | None:
    query = select(Creator).where(Creator.id == creator_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def find_by_handle(session: AsyncSession, platform: str, handle: str) -> Creator | None:
    query = select(Creator).where(Creator.platform == platform, Creator.handle == handle)
    return (await session.execute(query)).scalar_one_or_none()


async def list_page(session: AsyncSession, page: PageParams, *, platform: str | None = None) -> list[Creator]:
    """Up to page.limit + 1 creators, oldest first (the extra row tells whether a next page exists)."""
    query = select(Creator)
    if platform is not None:
        query = query.where(Creator.platform == platform)
    return list((await session.execute(keyset(query, Creator, page))).scalars())
