import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.audit.models import PENDING, Audit
from shared.pagination import PageParams, keyset


async def get(session: AsyncSession, audit_id: uuid.UUID) -> Audit | None:
    return await session.get(Audit, audit_id)


async def pending_for_creator(session: AsyncSession, creator_id: uuid.UUID) -> Audit | None:
    query = select(Audit).where(Audit.creator_id == creator_id, Audit.status == PENDING).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def list_page(
    session: AsyncSession, page: PageParams, *, creator_id: uuid.UUID | None = None, status: str | None = None
) -> list[Audit]:
    query = select(Audit)
    if creator_id is not None:
        query = query.where(Audit.creator_id == creator_id)
    if status is not None:
        query = query.where(Audit.status == status)
    return list((await session.execute(keyset(query, Audit, page))).scalars())
