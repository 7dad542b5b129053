import uuid

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.appeals.models import Appeal
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

# What an audit or a creator's shared view shows: the newest this many (an audit has a handful).
SHOWN = 200

_BY_ID = ReadStatement(select(Appeal).where(Appeal.id == bindparam("appeal_id")))
_OF_AUDIT = ReadStatement(
    select(Appeal).where(Appeal.audit_id == bindparam("audit_id"))
    .order_by(Appeal.created_at.desc(), Appeal.id.desc()).limit(bindparam("limit", type_=Integer))
)
SORTS = Sorts(Appeal.id, created_at=Appeal.created_at)
SORT = "-created_at"
_LIST = PagedList(select(Appeal), SORTS, status=Appeal.status, creator_id=Appeal.creator_id, audit_id=Appeal.audit_id)


async def get(session: AsyncSession | Reads, appeal_id: uuid.UUID) -> Appeal | None:
    found = await rows(session, _BY_ID, appeal_id=appeal_id)
    return found[0] if found else None


async def of_audit(session: AsyncSession | Reads, audit_id: uuid.UUID) -> list[Appeal]:
    """The bound tenant's appeals against one audit, newest first."""
    return await rows(session, _OF_AUDIT, audit_id=audit_id, limit=SHOWN)


async def of_creator(session: AsyncSession, creator_id: uuid.UUID) -> list[Appeal]:
    """The bound tenant's appeals about one creator's audits, newest first."""
    query = (
        select(Appeal).where(Appeal.creator_id == creator_id)
        .order_by(Appeal.created_at.desc(), Appeal.id.desc()).limit(SHOWN)
    )
    return list((await session.scalars(query)).all())


async def list_page(
    session: AsyncSession | Reads,
    page: PageParams,
    *,
    status: str | None = None,
    creator_id: uuid.UUID | None = None,
    audit_id: uuid.UUID | None = None,
) -> list[Appeal]:
    """Up to page.limit + 1 of the tenant's appeals, newest first."""
    return await _LIST.fetch(session, page, SORT, status=status, creator_id=creator_id, audit_id=audit_id)


async def open_with(session: AsyncSession, fingerprint: str) -> Appeal | None:
    query = select(Appeal).where(Appeal.fingerprint == fingerprint, Appeal.status == "open")
    return (await session.execute(query)).scalar_one_or_none()


async def open_count(session: AsyncSession, share_link_id: uuid.UUID) -> int:
    """The appeals filed through the link that await review."""
    query = select(func.count()).select_from(Appeal).where(Appeal.share_link_id == share_link_id,
                                                           Appeal.status == "open")
    return int((await session.execute(query)).scalar_one())
