import uuid

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.audit.models import ACTIVE_SQL, Audit
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

# Built and compiled once (shared.db.ReadStatement): the read path runs only the SQL.
_BY_ID = ReadStatement(select(Audit).where(Audit.id == bindparam("audit_id")))
# Oldest first, the default order of a list (shared.pagination.keyset, next_cursor); a
# creator's history newest first.
SORTS = Sorts(Audit.id, created_at=Audit.created_at)
_LIST = PagedList(select(Audit), SORTS, creator_id=Audit.creator_id, status=Audit.status)


async def get(session: AsyncSession | Reads, audit_id: uuid.UUID) -> Audit | None:
    """The audit, or None. Through a `ReadSession` a `shared.db.Row` with the same attributes."""
    found = await rows(session, _BY_ID, audit_id=audit_id)
    return found[0] if found else None


async def pending_for_creator(
    session: AsyncSession, creator_id: uuid.UUID, *, for_update: bool = False
) -> Audit | None:
    """The creator's pending or running audit (at most one: the unique partial index says so)."""
    # The index's own predicate, as literal SQL, so the planner sees it is implied.
    query = select(Audit).where(Audit.creator_id == creator_id, text(ACTIVE_SQL))
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_page(
    session: AsyncSession | Reads,
    page: PageParams,
    *,
    creator_id: uuid.UUID | None = None,
    status: str | None = None,
    sort: str = "created_at",
) -> list[Audit]:
    """Up to page.limit + 1 audits in `sort` order (the extra row tells whether a next page exists)."""
    return await _LIST.fetch(session, page, sort, creator_id=creator_id, status=status)
