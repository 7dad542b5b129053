"""Search: the filters, the full-text query and the sort of a request, into one page of creators."""

from services.discovery.search import repository
from services.discovery.search.filters import conditions
from services.discovery.search.schemas import CreatorSummary, Facets, SearchHit, SearchRequest, SearchResult
from shared.db import Reads
from shared.errors import Invalid
from shared.pagination import PageParams


async def search(session: Reads, request: SearchRequest) -> SearchResult:
    """One page of `request`: semantic mode goes to `semantic_search`."""
    if request.mode == "semantic":
        return await semantic_search(session, request)
    sort = request.chosen_sort
    where = conditions(request.filters)
    query = await repository.tsquery(session, request.q, request.filters.language) if request.q is not None else None
    page = PageParams(limit=request.limit, cursor=request.cursor)
    try:
        found = await repository.search(session, where, query, sort, page)
    except Invalid as exc:  # the cursor is in the body here, not the query string
        raise Invalid("body.cursor", exc.detail[0]["reason"]) from exc
    facets = Facets(**await repository.facets(session, where, query)) if request.facets else None
    return SearchResult(
        items=[SearchHit(**CreatorSummary.of(row).model_dump(), score=row.score) for row in found[: request.limit]],
        next_cursor=repository.next_cursor(found, request.limit, sort),
        facets=facets,
    )


async def semantic_search(session: Reads, request: SearchRequest) -> SearchResult:
    """`mode: semantic`: creators ranked by the cosine distance of their content embedding to the
    embedding of `q` (services/discovery/embedding/), within the same filters.

    Wired to the embedding package at merge; until then the mode is refused."""
    raise Invalid("body.mode", "semantic search is not available")
