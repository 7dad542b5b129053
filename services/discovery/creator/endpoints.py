import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from services.discovery.creator import repository, service
from services.discovery.creator.schemas import CreatorCreate, CreatorRead, CreatorUpdate
from services.discovery.db import idempotency
from services.discovery.search import repository as search_repository
from services.discovery.search.schemas import CreatorListQuery
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.errors import NotFound
from shared.idempotency import IdempotentRoute
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import PageOut, PageParams

router = APIRouter(route_class=IdempotentRoute)

CreatorPage = PageOut[CreatorRead]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatorRead,
    responses=error_responses(409),
    dependencies=[requires("discovery:write"), idempotency.depends],
)
async def create_creator(body: CreatorCreate, session: Session) -> CreatorRead:
    """Add a creator account to the index. An authenticity audit is requested automatically."""
    return CreatorRead.of(await service.create(session, body))


@router.get("", response_model=CreatorPage, dependencies=[requires("discovery:read")])
async def list_creators(session: ReadSession, query: Annotated[CreatorListQuery, Query()]) -> Response:
    """List creators, oldest first unless `sort` says otherwise, one cursor page at a time, narrowed
    by any of the search filters (docs/guide/discovery-search.md)."""
    page = PageParams(limit=query.limit, cursor=query.cursor)
    if query.filters_given():
        rows = await search_repository.list_creators(session, page, query.sort, query)
    else:
        rows = await repository.list_page(session, page, sort=query.sort)
    # Serialised here, once (shared.app.model_response); response_model documents it.
    return model_response(
        CreatorPage(
            items=[CreatorRead.of(c) for c in rows[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(rows, page.limit, query.sort),
        )
    )


@router.get("/{creator_id}", response_model=CreatorRead, dependencies=[requires("discovery:read")])
async def get_creator(creator_id: uuid.UUID, session: ReadSession) -> Response:
    """One creator, with the status and score of its latest authenticity audit."""
    creator = await repository.get(session, creator_id)
    if creator is None:
        raise NotFound(f"creator {creator_id} does not exist")
    return model_response(CreatorRead.of(creator))


@router.patch(
    "/{creator_id}",
    response_model=CreatorRead,
    responses=error_responses(409),
    dependencies=[requires("discovery:write")],
)
async def update_creator(creator_id: uuid.UUID, body: CreatorUpdate, session: Session) -> CreatorRead:
    """Change a creator. A new handle or a follower swing of 20 % or more requests a new audit."""
    return CreatorRead.of(await service.update(session, creator_id, body))
