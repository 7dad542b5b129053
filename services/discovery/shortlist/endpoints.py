import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import Response, StreamingResponse

from services.discovery.db import idempotency
from services.discovery.shortlist import export, report, repository, service
from services.discovery.shortlist.schemas import (
    EntryPut,
    EntryRead,
    EntryUpdate,
    ShortlistCreate,
    ShortlistRead,
    ShortlistReport,
    ShortlistUpdate,
    StageChangeRead,
    Tag,
)
from services.discovery.shortlist.stages import Stage
from shared.app import model_response
from shared.db import ReadSession, Session, utcnow
from shared.idempotency import IdempotentRoute
from shared.identity import Principal, requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Every route here is tenant-private (discovery/api.py marks them: shared.tenancy).
router = APIRouter(route_class=IdempotentRoute)

ShortlistPage = PageOut[ShortlistRead]
EntryPage = PageOut[EntryRead]
HistoryPage = PageOut[StageChangeRead]
StageFilter = Annotated[Stage | None, Query(description="Only entries at this outreach stage.")]
TagFilter = Annotated[Tag | None, Query(description="Only entries with this tag (case-insensitive).")]


class CSVResponse(StreamingResponse):
    media_type = "text/csv"


def _tag(tag: str | None) -> str | None:
    return tag.lower() if tag is not None else None


async def _visible(session, shortlist_id: uuid.UUID):
    shortlist = await repository.get(session, shortlist_id)
    if shortlist is None:
        raise service.not_found(shortlist_id)
    return shortlist


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
async def list_entries(
    shortlist_id: uuid.UUID, session: ReadSession, page: Page, stage: StageFilter = None, tag: TagFilter = None
) -> Response:
    """The creators on a shortlist, in the order they were added, with your notes, tags and
    outreach stage; filter by `stage` and `tag`."""
    await _visible(session, shortlist_id)
    rows = await repository.entries_page(session, shortlist_id, page, stage=stage, tag=_tag(tag))
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
async def put_entry(
    shortlist_id: uuid.UUID, creator_id: uuid.UUID, body: EntryPut, session: Session, principal: Principal
) -> Response:
    """Add a creator from the index to a shortlist as a prospect (201), or replace its note and
    tags (200; its stage stays)."""
    entry, creator, created = await service.put_entry(session, shortlist_id, creator_id, body, principal.subject)
    return model_response(
        EntryRead.of(entry, creator.platform, creator.handle),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


@router.patch(
    "/{shortlist_id}/creators/{creator_id}",
    response_model=EntryRead,
    responses=error_responses(409),
    dependencies=[requires("discovery:write")],
)
async def update_entry(
    shortlist_id: uuid.UUID, creator_id: uuid.UUID, body: EntryUpdate, session: Session, principal: Principal
) -> Response:
    """Move a shortlisted creator along the outreach pipeline, or change its note or tags. A move
    the pipeline does not allow is a 409 naming both stages; each move is kept in its history."""
    entry, creator = await service.update_entry(session, shortlist_id, creator_id, body, principal.subject)
    return model_response(EntryRead.of(entry, creator.platform, creator.handle))


@router.get(
    "/{shortlist_id}/creators/{creator_id}/history",
    response_model=HistoryPage,
    dependencies=[requires("discovery:read")],
)
async def entry_history(shortlist_id: uuid.UUID, creator_id: uuid.UUID, session: ReadSession, page: Page) -> Response:
    """Every stage change of a shortlisted creator, oldest first: from, to, when, by whom, why."""
    await _visible(session, shortlist_id)
    if not await repository.has_entry(session, shortlist_id, creator_id):
        raise service.entry_not_found(shortlist_id, creator_id)
    rows = await repository.history_page(session, shortlist_id, creator_id, page)
    return model_response(
        HistoryPage(
            items=[StageChangeRead.of(r) for r in rows[: page.limit]],
            next_cursor=repository.CHANGE_SORTS.next_cursor(rows, page.limit, repository.CHANGE_SORT),
        )
    )


@router.get("/{shortlist_id}/report", response_model=ShortlistReport, dependencies=[requires("discovery:read")])
async def shortlist_report(shortlist_id: uuid.UUID, session: ReadSession) -> Response:
    """The outreach funnel of a shortlist: per stage, entries now and ever, conversion from the
    previous stage and time spent; time-to-reply and the contracted rate. Definitions: each field."""
    await _visible(session, shortlist_id)
    return model_response(report.compute(shortlist_id, await repository.all_changes(session, shortlist_id)))


@router.get(
    "/{shortlist_id}/export.csv",
    response_class=CSVResponse,
    responses={
        status.HTTP_200_OK: {
            "description": "One header line, then one line per entry (RFC 4180, every field quoted; text that "
            "a spreadsheet would run as a formula starts with a single quote).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
    dependencies=[requires("discovery:read")],
)
async def export_csv(
    shortlist_id: uuid.UUID, session: ReadSession, stage: StageFilter = None, tag: TagFilter = None
) -> CSVResponse:
    """The shortlist as a CSV file: each creator's figures with your stage, note and tags, in the
    order they were added; `stage` and `tag` filter as on the list."""
    shortlist = await _visible(session, shortlist_id)
    disposition = export.filename(shortlist.name, utcnow().date().isoformat())
    return CSVResponse(
        export.stream(session, shortlist_id, stage=stage, tag=_tag(tag)),
        headers={"Content-Disposition": disposition},
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
