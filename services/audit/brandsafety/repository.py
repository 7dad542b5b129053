"""Brand-safety list queries. None names a tenant: shared.tenancy restricts each to the session's."""

import uuid

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.brandsafety.models import BrandSafetyList
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(BrandSafetyList.id, created_at=BrandSafetyList.created_at)
DEFAULT_SORT = "created_at"

_BY_ID = ReadStatement(select(BrandSafetyList).where(BrandSafetyList.id == bindparam("list_id")))
_LIST = PagedList(select(BrandSafetyList), SORTS)
_ALL = ReadStatement(select(BrandSafetyList).order_by(BrandSafetyList.created_at, BrandSafetyList.id))


async def get(session: AsyncSession | Reads, list_id: uuid.UUID, *, for_update: bool = False) -> BrandSafetyList | None:
    """The list, or None (also when another tenant's: the caller cannot tell the two apart)."""
    if for_update:
        query = select(BrandSafetyList).where(BrandSafetyList.id == list_id).with_for_update()
        return (await session.execute(query)).scalar_one_or_none()
    found = await rows(session, _BY_ID, list_id=list_id)
    return found[0] if found else None


async def find_by_name(session: AsyncSession, name: str) -> BrandSafetyList | None:
    return (await session.execute(select(BrandSafetyList).where(BrandSafetyList.name == name))).scalar_one_or_none()


async def count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(BrandSafetyList))


async def list_page(session: AsyncSession | Reads, page: PageParams) -> list:
    """Up to page.limit + 1 lists, oldest first."""
    return await _LIST.fetch(session, page, DEFAULT_SORT)


async def all_lists(session: AsyncSession | Reads) -> list:
    """Every list of the tenant, oldest first (at most service.MAX_LISTS exist)."""
    return await rows(session, _ALL)
