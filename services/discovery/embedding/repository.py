"""Nearest creators by cosine distance, under the search filters: the one query shape behind
lookalikes and semantic search (content, through the HNSW index; audience exactly, it has none).

pgvector 0.6 has no iterative index scan: an HNSW scan yields at most `hnsw.ef_search`
candidates and the filters are applied to those, so a selective filter can leave fewer than
`k` rows. `nearest()` therefore (docs/decisions/0022-embeddings-and-lookalikes.md):

1. asks the HNSW index with ef_search = max(EF_SEARCH, 2k) — recall@10 >= 0.95 unfiltered;
2. when filters left it short, and the share of candidates that passed them says the widest
   scan (EF_SEARCH_MAX) should yield 2k, asks again with that;
3. otherwise, or when still short, ranks the filtered rows exactly (ORDER BY an expression the
   index cannot serve), which is cheap precisely because a filter that starves the index is
   selective: the planner reads its rows through the filters' own indexes.

Without filters a short answer means the index holds fewer than k vectors: there is nothing more.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator.models import Creator
from services.discovery.search.schemas import SUMMARY_COLUMNS

# recall@10 against exact search (bench/embedding_recall.py, bench/README.md): on 100k clustered
# vectors with m=16 / ef_construction=64, 40 (pgvector's default) gives 0.89, 100 gives 0.95,
# 200 gives 0.97; recall falls as the index grows, so 200.
EF_SEARCH = 200
EF_SEARCH_MAX = 1000  # pgvector's upper bound for hnsw.ef_search

COLUMNS = tuple(Creator.__table__.c[name] for name in SUMMARY_COLUMNS)


@dataclass(frozen=True)
class Neighbour:
    row: object  # a Row with the SUMMARY_COLUMNS and `distance`
    similarity: float  # 1 - cosine distance


async def set_ef_search(session: AsyncSession, ef: int) -> None:
    # SET LOCAL: for this transaction only, so a pooled connection never carries it to another.
    # set_config(..., true) is SET LOCAL as a SELECT, which a read-only transaction also runs.
    await session.execute(select(func.set_config("hnsw.ef_search", str(min(int(ef), EF_SEARCH_MAX)), True)))


def knn_query(column, vector, where: Sequence[ColumnElement[bool]], k: int, *, exact: bool) -> Select:
    distance = column.cosine_distance(vector)
    # The index scan is only chosen for ORDER BY the distance alone: a tiebreaker after it (`, id`)
    # makes PostgreSQL sort every row the filters pass (855 ms instead of 3 ms at 100k creators).
    # The exact plan adds `+ 0`, the same order in an expression no index matches, and can afford
    # the id tiebreaker because it sorts anyway.
    order = (distance + literal_column("0"), Creator.id) if exact else (distance,)
    return select(*COLUMNS, distance.label("distance")).where(column.is_not(None), *where).order_by(*order).limit(k)


async def nearest(
    session: AsyncSession,
    column,
    vector: Sequence[float],
    where: Sequence[ColumnElement[bool]],
    k: int,
    *,
    exclude: uuid.UUID | None = None,
) -> list[Neighbour]:
    """Up to k creators nearest to `vector` on `column` (Creator.embedding or
    Creator.audience_vector) among those matching `where`, nearest first. `session` must be in a
    transaction (the request's `Session`): ef_search is set for it with SET LOCAL."""
    where = [*where, Creator.id != exclude] if exclude is not None else list(where)
    vector = list(map(float, vector))
    filtered = len(where) > 0 if exclude is None else len(where) > 1
    ef = max(EF_SEARCH, 2 * k)
    await set_ef_search(session, ef)
    rows = (await session.execute(knn_query(column, vector, where, k, exact=False))).all()
    if len(rows) < k and not filtered and ef < EF_SEARCH_MAX:
        # Unfiltered and short: the candidates held rows no longer there (deleted, or re-embedded
        # and not yet vacuumed from the index). The widest scan, once; no exact ranking of the
        # whole table.
        await set_ef_search(session, EF_SEARCH_MAX)
        rows = (await session.execute(knn_query(column, vector, where, k, exact=False))).all()
    if len(rows) < k and filtered:
        # The share of the ef candidates that passed the filters estimates their selectivity:
        # when even the widest scan should yield k, widen it; otherwise the filters are selective
        # enough that ranking their rows exactly is the cheaper answer.
        if len(rows) * EF_SEARCH_MAX / ef >= 2 * k:
            await set_ef_search(session, EF_SEARCH_MAX)
            rows = (await session.execute(knn_query(column, vector, where, k, exact=False))).all()
        if len(rows) < k:
            rows = (await session.execute(knn_query(column, vector, where, k, exact=True))).all()
    return [Neighbour(row, 1.0 - float(row.distance)) for row in rows]


async def nearest_exact(
    session: AsyncSession,
    column,
    vector: Sequence[float],
    where: Sequence[ColumnElement[bool]],
    k: int,
    *,
    exclude: uuid.UUID | None = None,
) -> list[Neighbour]:
    """Up to k creators nearest to `vector` on `column` among those matching `where`, ranked
    exactly (no index serves the order: the planner reads the rows through the filters' indexes)."""
    where = [*where, Creator.id != exclude] if exclude is not None else list(where)
    rows = (await session.execute(knn_query(column, list(map(float, vector)), where, k, exact=True))).all()
    return [Neighbour(row, 1.0 - float(row.distance)) for row in rows]


async def vectors_of(session: AsyncSession, creator_id: uuid.UUID):
    """(exists, embedding, audience_vector) of a creator."""
    row = (
        await session.execute(
            select(Creator.embedding, Creator.audience_vector).where(Creator.id == creator_id)
        )
    ).first()
    if row is None:
        return False, None, None
    return True, row.embedding, row.audience_vector


async def similarities(
    session: AsyncSession, ids: Sequence[uuid.UUID], embedding, audience
) -> dict[uuid.UUID, tuple[float | None, float | None]]:
    """Exact (content, audience) cosine similarities of the given creators to the two vectors."""
    content = (1 - Creator.embedding.cosine_distance(list(map(float, embedding)))).label("content")
    crowd = (1 - Creator.audience_vector.cosine_distance(list(map(float, audience)))).label("audience")
    rows = await session.execute(select(Creator.id, content, crowd).where(Creator.id.in_(list(ids))))
    return {row.id: (row.content, row.audience) for row in rows}
