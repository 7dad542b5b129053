"""Tracked link queries. None names a tenant (shared.tenancy restricts each to the session's),
except `by_slug`, the redirect's, which runs across tenants: a slug is unique installation-wide."""

import uuid

from sqlalchemy import and_, bindparam, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.links.models import Link
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(Link.id, created_at=Link.created_at)
DEFAULT_SORT = "created_at"

# Literal SQL, not bound parameters: a ReadStatement is compiled once with its parameters named.
_STATE = {name: literal_column(f"'{name}'") for name in ("active", "expired", "revoked")}
# A link's state in SQL, as LinkRead.active says it for one loaded link.
STATE = case(
    (Link.revoked_at.is_not(None), _STATE["revoked"]),
    (and_(Link.expires_at.is_not(None), Link.expires_at <= func.now()), _STATE["expired"]),
    else_=_STATE["active"],
)

_BY_ID = ReadStatement(select(Link).where(Link.id == bindparam("link_id")))
_LIST = PagedList(select(Link), SORTS, campaign_id=Link.campaign_id, creator_id=Link.creator_id, state=STATE)


async def get(session: AsyncSession | Reads, link_id: uuid.UUID, *, for_update: bool = False) -> Link | None:
    """The link, or None (also when it is another tenant's)."""
    if for_update:
        return (await session.execute(select(Link).where(Link.id == link_id).with_for_update())).scalar_one_or_none()
    found = await rows(session, _BY_ID, link_id=link_id)
    return found[0] if found else None


async def list_page(session: AsyncSession | Reads, page: PageParams, **filters) -> list:
    """Up to page.limit + 1 links, oldest first, filtered by campaign_id, creator_id, state."""
    return await _LIST.fetch(session, page, DEFAULT_SORT, **filters)
