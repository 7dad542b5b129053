import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from starlette.responses import Response

from services.discovery.creator import bulk, repository, service
from shared.validation import DateTimeText
from services.discovery.creator.schemas import (
    BulkResult,
    ContactRead,
    CreatorCreate,
    CreatorDetail,
    CreatorRead,
    CreatorUpdate,
    FollowerHistory,
    FollowerSeries,
    PostRead,
)
from services.discovery.db import idempotency
from services.discovery.search import repository as search_repository
from services.discovery.search.schemas import CreatorListQuery
from shared.app import model_response
from shared.contracts.types import Platform
from shared.db import ReadSession, Session
from shared.errors import NotFound
from shared.idempotency import IdempotentRoute
from shared.identity import requires
from shared.openapi import ErrorBody, error_responses
from shared.pagination import Page, PageOut, PageParams

router = APIRouter(route_class=IdempotentRoute)

CreatorPage = PageOut[CreatorRead]
PostPage = PageOut[PostRead]


async def _detail(session, creator_id: uuid.UUID) -> CreatorDetail:
    creator = await repository.get(session, creator_id)
    if creator is None:
        raise NotFound(f"creator {creator_id} does not exist")
    return CreatorDetail.of_detail(creator, *await repository.details(session, creator_id))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatorDetail,
    responses=error_responses(409),
    dependencies=[requires("discovery:write"), idempotency.depends],
)
async def create_creator(body: CreatorCreate, session: Session) -> CreatorDetail:
    """Add a creator with its accounts, posts, follower history and audience (or one account by the
    `platform` + `handle` shorthand). 409 when an account already belongs to a creator."""
    creator_id = await service.create(session, body)
    session.expire_all()
    return await _detail(session, creator_id)


@router.post(
    "/bulk",
    response_model=BulkResult,
    responses={
        413: {"model": ErrorBody, "description": "More lines or bytes than one request may carry."},
        415: {"model": ErrorBody, "description": "The body is not application/x-ndjson."},
    },
    dependencies=[requires("discovery:write")],
    openapi_extra=bulk.OPENAPI_BODY,
)
async def bulk_ingest(
    request: Request,
    session: Session,
    ids: bool = Query(False, description="Also answer each applied line's creator id and status (`lines`)."),
) -> BulkResult:
    """Upsert up to 10,000 creators from NDJSON, one creator per line in the shape of POST /creators,
    matched by platform + handle. Valid lines are committed; each bad line is reported by number."""
    return await bulk.ingest_request(request, session, with_ids=ids)


@router.api_route(
    "/bulk",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
    dependencies=[requires("discovery:read")],
)
async def bulk_other_methods() -> None:
    # Without this, PATCH /creators/bulk would reach PATCH /creators/{creator_id} and answer
    # 422 (not a creator id) where the truth is that /bulk only takes POST.
    raise HTTPException(status.HTTP_405_METHOD_NOT_ALLOWED, "the bulk route takes POST only", headers={"Allow": "POST"})


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


@router.get("/{creator_id}", response_model=CreatorDetail, dependencies=[requires("discovery:read")])
async def get_creator(creator_id: uuid.UUID, session: ReadSession) -> Response:
    """One creator: accounts with engagement rates, audience, prices, latest audit, sales records and
    the latest posts. Whether it is contactable is said; the contact details are not."""
    return model_response(await _detail(session, creator_id))


@router.get("/{creator_id}/contact", response_model=ContactRead, dependencies=[requires("discovery:read")])
async def get_contact(creator_id: uuid.UUID, session: ReadSession) -> ContactRead:
    """The creator's private contact details (email, phone, agent, website)."""
    creator = await repository.get(session, creator_id)
    if creator is None:
        raise NotFound(f"creator {creator_id} does not exist")
    return ContactRead(**(creator.contact or {}))


@router.get("/{creator_id}/posts", response_model=PostPage, dependencies=[requires("discovery:read")])
async def list_posts(creator_id: uuid.UUID, session: ReadSession, page: Page) -> Response:
    """The creator's posts, newest first, one cursor page at a time."""
    if await repository.get(session, creator_id) is None:
        raise NotFound(f"creator {creator_id} does not exist")
    rows = await repository.posts_page(session, creator_id, page)
    return model_response(
        PostPage(
            items=[PostRead.model_validate(p, from_attributes=True) for p in rows[: page.limit]],
            next_cursor=repository.POST_SORTS.next_cursor(rows, page.limit, "-posted_at"),
        )
    )


@router.get("/{creator_id}/followers", response_model=FollowerHistory, dependencies=[requires("discovery:read")])
async def follower_history(
    creator_id: uuid.UUID,
    session: ReadSession,
    since: Annotated[
        DateTimeText | None, Query(description="Points observed at or after this time; default: the last 365 days.")
    ] = None,
) -> FollowerHistory:
    """The follower-count time series of each of the creator's accounts, oldest point first."""
    if await repository.get(session, creator_id) is None:
        raise NotFound(f"creator {creator_id} does not exist")
    since = since or datetime.now(UTC) - timedelta(days=365)
    series: dict[uuid.UUID, FollowerSeries] = {}
    for account_id, platform, handle, observed_at, followers in await repository.follower_points(
        session, creator_id, since
    ):
        entry = series.setdefault(account_id, FollowerSeries(account_id=account_id, platform=platform, handle=handle, points=[]))
        if observed_at is not None:
            entry.points.append({"observed_at": observed_at, "followers": followers})
    return FollowerHistory(accounts=list(series.values()))


@router.patch(
    "/{creator_id}",
    response_model=CreatorDetail,
    responses=error_responses(409),
    dependencies=[requires("discovery:write")],
)
async def update_creator(creator_id: uuid.UUID, body: CreatorUpdate, session: Session) -> CreatorDetail:
    """Change a creator: accounts upserted by platform + handle, posts by account + external_id,
    follower points appended, the audience replaced. A new account, a handle change or a follower
    swing of 20 % or more requests a new audit."""
    await service.update(session, creator_id, body)
    session.expire_all()
    return await _detail(session, creator_id)
