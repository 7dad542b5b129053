"""Review queries. None names a tenant: shared.tenancy restricts each to the session's."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.fraud.models import FraudReview
from shared.db import Reads
from shared.pagination import PagedList, PageParams, Sorts

DEFAULT_SORT = "created_at"
REVIEW_SORTS = Sorts(FraudReview.id, created_at=FraudReview.created_at)
_REVIEWS = PagedList(select(FraudReview), REVIEW_SORTS, status=FraudReview.status, creator_id=FraudReview.creator_id)


async def reviews_page(session: AsyncSession | Reads, page: PageParams, **filters) -> list:
    """Up to page.limit + 1 reviews, oldest first; filters given as None are left out."""
    return await _REVIEWS.fetch(session, page, DEFAULT_SORT, **filters)


async def review(session: AsyncSession | Reads, review_id: uuid.UUID):
    """The review, or None (also when it is another tenant's)."""
    return (await session.execute(select(FraudReview).where(FraudReview.id == review_id))).scalar_one_or_none()
