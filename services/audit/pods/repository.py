import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.pods.models import Pod
from shared.db import Reads
from shared.pagination import PagedList, PageParams, Sorts

SORT = "-co_comments"
SORTS = Sorts(Pod.id, co_comments=Pod.co_comments)
_ALL = PagedList(select(Pod), SORTS)


async def list_page(session: AsyncSession | Reads, page: PageParams, *, creator_id: uuid.UUID | None = None) -> list[Pod]:
    """Up to page.limit + 1 pods, most co-comments first; those involving `creator_id` if given."""
    if creator_id is None:
        return await _ALL.fetch(session, page, SORT)
    query = SORTS.apply(
        select(Pod).where(Pod.creators.contains(bindparam("creators", type_=ARRAY(UUID(as_uuid=True))))), page, SORT
    )
    return list((await session.execute(query, {"creators": [creator_id]})).scalars())



