"""Rate card queries. None names a tenant: shared.tenancy restricts each to the session's."""

from sqlalchemy import select

from services.attribution.ratecards.models import RateCard
from shared.db import Reads
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(RateCard.id, version=RateCard.version)
DEFAULT_SORT = "-version"
_LIST = PagedList(select(RateCard), SORTS)


async def list_page(session: Reads, page: PageParams) -> list:
    """Up to page.limit + 1 of the tenant's versions, newest first."""
    return await _LIST.fetch(session, page, DEFAULT_SORT)
