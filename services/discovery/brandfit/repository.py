"""Brand-fit queries: the candidates (hard filters, then the nearest by content and the best
audited in the brief's niches), the posts behind brand safety and competitor sponsorships, and
the saved briefs. None of the brief queries names a tenant: shared.tenancy restricts them."""

import asyncio
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, literal, not_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.brandfit.models import SavedBrief
from services.discovery.creator.models import Creator, Post
from services.discovery.creator.text import RECENT_CAPTIONS
from services.discovery.search.schemas import SUMMARY_COLUMNS
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

# How many creators each candidate source yields; their union is scored exactly.
CANDIDATES_PER_SOURCE = 200
# HNSW returns at most ef_search rows before the WHERE filters; searched wider so a filtered
# query still finds CANDIDATES_PER_SOURCE (pgvector README, "Filtering").
EF_SEARCH = 400

_COLUMNS = [getattr(Creator, name) for name in SUMMARY_COLUMNS] + [
    Creator.bio, Creator.price_estimates, Creator.audience_countries, Creator.audience_ages,
    Creator.audience_genders, Creator.audience_languages,
]


async def candidates(
    session: AsyncSession, where: list[ColumnElement[bool]], vector: list[float] | None, niches: list[str]
) -> list:
    """Creators passing `where`: the CANDIDATES_PER_SOURCE nearest to `vector` by content (the
    HNSW index), and the as many best audited among those in `niches` (or among all, without
    niches), each with `similarity` (cosine, null when not embedded). Deduplicated.

    The two queries run at once, the second on a connection of its own (they read only the shared
    catalogue, nothing the request's transaction wrote): a brand fit waits for the slower of the
    two instead of both (docs/decisions/0025-search-at-a-million.md)."""
    similarity = (
        (1 - Creator.embedding.cosine_distance(vector)).label("similarity")
        if vector is not None else literal(None).label("similarity")
    )
    best = select(*_COLUMNS, similarity).where(*where)
    if niches:
        best = best.where(Creator.niches.overlap(niches))
    best = best.order_by(Creator.audit_score.desc().nulls_last(), Creator.id.desc()).limit(CANDIDATES_PER_SOURCE)
    if vector is None:
        return list(await session.execute(best))

    async def nearest() -> list:
        await session.execute(text(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}"))
        query = (
            select(*_COLUMNS, similarity)
            .where(*where, Creator.embedding.is_not(None))
            .order_by(Creator.embedding.cosine_distance(vector))
            .limit(CANDIDATES_PER_SOURCE)
        )
        return list(await session.execute(query))

    async def best_audited() -> list:
        async with AsyncSession(session.bind) as own:
            return list(await own.execute(best))

    near, audited = await asyncio.gather(nearest(), best_audited())
    found: dict[uuid.UUID, object] = {row.id: row for row in near}
    for row in audited:
        found.setdefault(row.id, row)
    return list(found.values())


def excluded_categories(categories: list[str]) -> ColumnElement[bool]:
    return not_(Creator.niches.overlap(categories))


async def recent_captions(session: AsyncSession, creator_ids: list[uuid.UUID]) -> list:
    """The RECENT_CAPTIONS latest posts of each creator (the captions search and embeddings read)."""
    query = text(
        "SELECT p.creator_id, p.external_id, p.url, p.posted_at, p.caption"
        " FROM unnest(CAST(:ids AS uuid[])) AS c(id)"
        " CROSS JOIN LATERAL (SELECT creator_id, external_id, url, posted_at, caption FROM discovery.posts"
        "  WHERE creator_id = c.id AND caption IS NOT NULL ORDER BY posted_at DESC LIMIT :n) AS p"
    )
    return list(await session.execute(query, {"ids": creator_ids, "n": RECENT_CAPTIONS}))


async def competitor_sponsorships(
    session: AsyncSession, creator_ids: list[uuid.UUID], handles: list[str], since: datetime
) -> list:
    """Sponsored posts since `since` that mention one of `handles`, of these creators."""
    query = (
        select(Post.creator_id, Post.external_id, Post.url, Post.posted_at, Post.mentions)
        .where(
            Post.creator_id.in_(creator_ids),
            Post.sponsored.is_(True),
            Post.posted_at >= since,
            Post.mentions.overlap(handles),
        )
        .order_by(Post.posted_at.desc())
    )
    return list(await session.execute(query))


def since(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)


# --- saved briefs ----------------------------------------------------------------------------

SORTS = Sorts(SavedBrief.id, created_at=SavedBrief.created_at)
DEFAULT_SORT = "created_at"
_BY_ID = ReadStatement(select(SavedBrief).where(SavedBrief.id == bindparam("brief_id")))
_LIST = PagedList(select(SavedBrief), SORTS)


async def get(session: AsyncSession | Reads, brief_id: uuid.UUID, *, for_update: bool = False) -> SavedBrief | None:
    """The brief, or None (also when another tenant's: the caller cannot tell the two apart)."""
    if for_update:
        query = select(SavedBrief).where(SavedBrief.id == brief_id).with_for_update()
        return (await session.execute(query)).scalar_one_or_none()
    found = await rows(session, _BY_ID, brief_id=brief_id)
    return found[0] if found else None


async def find_by_name(session: AsyncSession, name: str) -> SavedBrief | None:
    return (await session.execute(select(SavedBrief).where(SavedBrief.name == name))).scalar_one_or_none()


async def list_page(session: AsyncSession | Reads, page: PageParams) -> list:
    """Up to page.limit + 1 briefs, oldest first."""
    return await _LIST.fetch(session, page, DEFAULT_SORT)
