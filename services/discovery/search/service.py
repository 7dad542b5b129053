"""Search: the filters, the full-text query and the sort of a request, into one page of creators."""

from services.discovery.embedding import semantic
from services.discovery.search import repository
from services.discovery.search.filters import conditions, follower_ceiling
from services.discovery.search.schemas import CreatorSummary, Facets, SearchHit, SearchRequest, SearchResult
from shared.db import Reads
from shared.errors import Invalid
from shared.pagination import PageParams, decode_cursor, encode_cursor


async def search(session: Reads, request: SearchRequest) -> SearchResult:
    """One page of `request`: semantic mode goes to `semantic_search`."""
    if request.mode == "semantic":
        return await semantic_search(session, request)
    sort = request.chosen_sort
    where = conditions(request.filters, text_query=request.q is not None)
    query = await repository.tsquery(session, request.q, request.filters.language) if request.q is not None else None
    page = PageParams(limit=request.limit, cursor=request.cursor)
    try:
        found = await repository.search(session, where, query, sort, page, follower_ceiling(request.filters))
    except Invalid as exc:  # the cursor is in the body here, not the query string
        raise Invalid("body.cursor", exc.detail[0]["reason"]) from exc
    facets = Facets(**await repository.facets(session, where, query)) if request.facets else None
    return SearchResult(
        items=[SearchHit(**CreatorSummary.of(row).model_dump(), score=row.score) for row in found[: request.limit]],
        next_cursor=repository.next_cursor(found, request.limit, sort),
        facets=facets,
    )


async def semantic_search(session: Reads, request: SearchRequest) -> SearchResult:
    """`mode: semantic`: creators ranked by the cosine similarity of their content embedding to the
    embedding of `q` (services/discovery/embedding/semantic.py), within the same filters. A page
    is a slice of the ranking (an HNSW scan cannot resume), so the cursor holds the offset, and
    the ranking reads at most MAX_DEPTH deep."""
    offset, after = 0, None
    if request.cursor is not None:
        try:
            offset, after = decode_cursor(request.cursor, repository.SEMANTIC)
        except Invalid as exc:
            raise Invalid("body.cursor", exc.detail[0]["reason"]) from exc
        if not 0 < offset < semantic.MAX_DEPTH:
            raise Invalid("body.cursor", "not a cursor of this search; start again without a cursor")
    limit = min(request.limit, semantic.MAX_DEPTH - offset)
    assert request.q is not None  # SearchRequest refuses semantic mode without q
    async with session.transaction() as tx:  # hnsw.ef_search is set for the transaction
        found, deeper = await semantic.semantic_search(tx, request.q, conditions(request.filters), limit + 1, offset,
                                                       after)
    items = [SearchHit(**CreatorSummary.of(row).model_dump(), score=round(similarity, 6)) for row, similarity in found[:limit]]
    # The page may be short of `limit` when a deeper scan ranked differently; the next one goes on
    # from its last creator, as long as the scan found more than it read and the depth allows.
    more = bool(items) and (deeper or len(found) > limit) and offset + len(items) < semantic.MAX_DEPTH
    return SearchResult(
        items=items,
        next_cursor=encode_cursor(repository.SEMANTIC.name, offset + len(items), items[-1].id) if more else None,
        facets=None,
    )
