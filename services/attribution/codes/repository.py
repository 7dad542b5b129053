"""Affiliate code queries. None names a tenant: shared.tenancy restricts each to the session's."""

import uuid

from sqlalchemy import and_, bindparam, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.codes.models import Code
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(Code.id, created_at=Code.created_at)
DEFAULT_SORT = "created_at"

# Literal SQL, not bound parameters: a ReadStatement is compiled once with its parameters named,
# and the states are constants anyway.
_STATE = {name: literal_column(f"'{name}'") for name in ("active", "expired", "exhausted", "revoked")}
# A code's state in SQL, as schemas.state_of says it for one loaded code.
STATE = case(
    (Code.revoked_at.is_not(None), _STATE["revoked"]),
    (and_(Code.expires_at.is_not(None), Code.expires_at <= func.now()), _STATE["expired"]),
    (and_(Code.usage_limit.is_not(None), Code.uses >= Code.usage_limit), _STATE["exhausted"]),
    else_=_STATE["active"],
)

_BY_ID = ReadStatement(select(Code).where(Code.id == bindparam("code_id")))
_LIST = PagedList(select(Code), SORTS, campaign_id=Code.campaign_id, creator_id=Code.creator_id, state=STATE)


async def get(session: AsyncSession | Reads, code_id: uuid.UUID, *, for_update: bool = False) -> Code | None:
    """The code, or None (also when it is another tenant's)."""
    if for_update:
        return (await session.execute(select(Code).where(Code.id == code_id).with_for_update())).scalar_one_or_none()
    found = await rows(session, _BY_ID, code_id=code_id)
    return found[0] if found else None


async def taken(session: AsyncSession, codes: list[str]) -> set[str]:
    """Which of `codes` (upper-cased) the tenant already has in any case, revoked ones included."""
    query = select(func.upper(Code.code)).where(func.upper(Code.code).in_([c.upper() for c in codes]))
    return set((await session.scalars(query)).all())


async def list_page(session: AsyncSession | Reads, page: PageParams, **filters) -> list:
    """Up to page.limit + 1 codes, oldest first, filtered by campaign_id, creator_id, state."""
    return await _LIST.fetch(session, page, DEFAULT_SORT, **filters)
