import uuid

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.audit.models import Audit
from shared.pagination import PageParams


async def get(session: AsyncSession, audit_id: uuid.UUID) -> Audit | None:
    return await session.get(Audit, audit_id)


async def pending_for_creator(session: AsyncSession, creator_id: uuid.UUID) -> Audit | None:
    query = select(Audit).where(Audit.creator_id == creator_id, Audit.status == "pending").limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def list_page(
    session: AsyncSession, page: PageParams, *, creator_id: uuid.UUID | None = None, status: str | None = None
) -> list[Audit]:
    query = select(Audit).order_by(Audit.created_at, Audit.id).limit(page.limit + 1)
    if creator_id is not None:
        query = query.where(Audit.creator_id == creator_id)
    if status is not None:
        query = query.where(Audit.status == status)
    if page.after is not None:
        query = query.where(tuple_(Audit.created_at, Audit.id) > tuple_(*page.after))
    return list((await session.execute(query)).scalars())
