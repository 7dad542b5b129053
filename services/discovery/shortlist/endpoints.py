import uuid

from fastapi import APIRouter, status
from starlette.responses import Response

from services.discovery.db import idempotency
from services.discovery.shortlist import repository, service
from services.discovery.shortlist.schemas import EntryPut, EntryRead, ShortlistCreate, ShortlistRead, ShortlistUpdate
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.idempotency import IdempotentRoute
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Every route here is tenant-private (discovery/api.py marks them: shared.tenancy).
router = APIRouter(route_class=IdempotentRoute)

ShortlistPage = PageOut[ShortlistRead]
EntryPage = PageOut[EntryRead]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ShortlistRead,
    responses=error_responses(409),
    dependencies=[requires("discovery:write"), idempotency.depends],
)
async def create_shortlist(body: ShortlistCreate, session: Session) -> ShortlistRead:
    """Start a shortlist of creators. Only your workspace sees it."""
    return ShortlistRead.of(await service.create(session, body))


@router.get("", response_model=ShortlistPage, dependencies=[requires("discovery:read")])
async def list_shortlists(session: ReadSession, page: Page) -> Response:
    """Your shortlists, oldest first, one cursor page at a time."""
    rows = await repository.list_page(session, page)
    return model_response(
        ShortlistPage(
            items=[ShortlistRead.of(s) for s in rows[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(rows, page.limit, repository.DEFAULT_SORT),
        )
    )


@router.get("/{shortlist_id}", response_model=ShortlistRead, dependencies=[requires("discovery:read")])
async def get_shortlist(shortlist_id: uuid.UUID, session: ReadSession) -> Response:
    """One of your shortlists."""
    shortlist = await repository.get(session, shortlist_id)
    if shortlist is None:
        raise service.not_found(shortlist_id)
    return model_response(ShortlistRead.of(shortlist))


@router.patch(
    "/{shortlist_id}",
    response_model=ShortlistRead,
    responses=error_responses(409),
    dependencies=[requires("discovery:write")],
)
async def update_shortlist(shortlist_id: uuid.UUID, body: ShortlistUpdate, session: Session) -> ShortlistRead:
    """Rename a shortlist or change its description."""
    return ShortlistRead.of(await service.update(session, shortlist_id, body))


@router.delete(
    "/{shortlist_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[requires("discovery:write")]
)
async def delete_shortlist(shortlist_id: uuid.UUID, session: Session) -> Response:
    """Delete a shortlist and its entries. The creators stay in the index."""
    await service.delete(session, shortlist_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{shortlist_id}/creators", response_model=EntryPage, dependencies=[requires("discovery:read")]
)
async def list_entries(shortlist_id: uuid.UUID, session: ReadSession, page: Page) -> Response:
    """The creators on a shortlist, in the order they were added, with your notes and tags."""
    if await repository.get(session, shortlist_id) is None:
        raise service.not_found(shortlist_id)
    rows = await repository.entries_page(session, shortlist_id, page)
    return model_response(
        EntryPage(
            items=[EntryRead.of(r, r.platform, r.handle) for r in rows[: page.limit]],
            next_cursor=repository.ENTRY_SORTS.next_cursor(rows, page.limit, repository.DEFAULT_SORT),
        )
    )


@router.put(
    "/{shortlist_id}/creators/{creator_id}",
    response_model=EntryRead,
    responses={status.HTTP_201_CREATED: {"model": EntryRead, "description": "The creator was added."}},
    dependencies=[requires("discovery:write")],
)
async def put_entry(shortlist_id: uuid.UUID, creator_id: uuid.UUID, body: EntryPut, session: Session) -> Response:
    """Add a creator from the index to a shortlist (201), or replace its note and tags (200)."""
    entry, creator, created = await service.put_entry(session, shortlist_id, creator_id, body)
    return model_response(
        EntryRead.of(entry, creator.platform, creator.handle),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


@router.delete(
    "/{shortlist_id}/creators/{creator_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[requires("discovery:write")],
)
async def remove_entry(shortlist_id: uuid.UUID, creator_id: uuid.UUID, session: Session) -> Response:
    """Take a creator off a shortlist."""
    await service.remove_entry(session, shortlist_id, creator_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
