"""Semantic search: creators ranked by how close their bio and captions are in meaning to a
natural-language query ("vegan baking for busy parents"), under the search filters.

The search endpoint calls `semantic_search`; the query is embedded with the same model as the
creators (in a thread: the forward pass is CPU work) and ranked by cosine distance through the
HNSW index, with the filter handling of `repository.nearest`.
"""

import asyncio
import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator.models import Creator
from services.discovery.embedding import repository
from services.discovery.embedding.encoder import get_encoder

# An HNSW scan cannot page: each page asks for offset + limit neighbours and drops the first
# `offset`. Deeper than this, semantic ranking stops being meaningful anyway.
MAX_DEPTH = 1000


async def embed_query(query_text: str) -> list[float]:
    """The query's embedding (a thread: the event loop keeps serving while it is computed)."""
    vectors = await asyncio.to_thread(get_encoder().encode, [query_text])
    return vectors[0].tolist()


async def semantic_search(
    session: AsyncSession,
    query_text: str,
    where: Sequence[ColumnElement[bool]],
    limit: int,
    offset: int = 0,
    after: uuid.UUID | None = None,
) -> tuple[list[tuple[object, float]], bool]:
    """(row, similarity) of the creators nearest in meaning to `query_text` among those matching
    `where` (search.filters.conditions), most similar first: up to `limit` of them after the first
    `offset`, the ranking read at most MAX_DEPTH deep; and whether the scan found more than it read
    (a next page may hold something).

    `after`, the last creator of the page before: the rows are those ranked after it, by
    (distance, id), not merely after the first `offset`. Each page runs the scan again, deeper, and
    an approximate scan may rank a little differently at another depth; without the key a creator
    shown on one page could come again on the next. (A creator the shallower scan missed that
    ranks before `after` is not shown: an approximate ranking can miss it on any page.)

    A row has the SUMMARY_COLUMNS (CreatorSummary.of(row)) and `distance`; similarity is
    1 - cosine distance. `session` must be in a transaction (SET LOCAL hnsw.ef_search). Creators
    not embedded yet are not found (they are on the embedding worker's queue)."""
    vector = await embed_query(query_text)
    depth = min(offset + limit, MAX_DEPTH)
    found = await repository.nearest(session, Creator.embedding, vector, where, depth)
    deeper = len(found) >= depth and depth < MAX_DEPTH
    # Ties in distance in one order on every page (the index orders by distance alone).
    found.sort(key=lambda n: (float(n.row.distance), n.row.id))
    last = None
    if after is not None:
        last = (await session.execute(
            select(Creator.embedding.cosine_distance(vector)).where(Creator.id == after))).scalar_one_or_none()
    if last is None:  # the first page, or the last creator shown is gone (or no longer embedded)
        rows = found[offset:]
    else:
        rows = [n for n in found if (float(n.row.distance), n.row.id) > (float(last), after)]
    return [(n.row, n.similarity) for n in rows[:limit]], deeper or len(rows) > limit
