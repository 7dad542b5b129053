"""Brand safety over HTTP: your keyword lists, the default list, and a creator's check.

Every route here is tenant-private (audit/api.py marks them: shared.tenancy). The check reads a
creator of the shared catalogue through your lists: another tenant checking the same creator
gets its own answer (x-tenant-view, docs/guide/tenancy.md), never yours."""

import uuid

from fastapi import APIRouter, status
from starlette.responses import Response

from services.audit.brandsafety import repository, service
from services.audit.brandsafety.schemas import (
    BrandSafetyListCreate,
    BrandSafetyListRead,
    BrandSafetyListUpdate,
    BrandSafetyRead,
    DefaultListRead,
)
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut
from shared.tenancy import TENANT_VIEW

router = APIRouter()

ListPage = PageOut[BrandSafetyListRead]


@router.post(
    "/brand-safety/lists",
    status_code=status.HTTP_201_CREATED,
    response_model=BrandSafetyListRead,
    responses=error_responses(409),
    dependencies=[requires("audits:write")],
)
async def create_list(body: BrandSafetyListCreate, session: Session) -> BrandSafetyListRead:
    """Add a keyword list that every brand-safety check of yours applies on top of the default list.
    409: the name is taken, you have 50 lists already, or your lists' terms would pass 10,000
    characters in all. Only your workspace sees it."""
    return BrandSafetyListRead.of(await service.create(session, body))


@router.get("/brand-safety/lists", response_model=ListPage, dependencies=[requires("audits:read")])
async def list_lists(session: ReadSession, page: Page) -> Response:
    """Your brand-safety lists, oldest first, one cursor page at a time."""
    rows = await repository.list_page(session, page)
    return model_response(
        ListPage(
            items=[BrandSafetyListRead.of(r) for r in rows[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(rows, page.limit, repository.DEFAULT_SORT),
        )
    )


@router.get("/brand-safety/default", response_model=DefaultListRead, dependencies=[requires("audits:read")])
async def default_list() -> Response:
    """The default list every check applies: its version, and per category the GARM categories it
    covers, its terms and the phrases in which a term is not reported."""
    return model_response(service.default_read())


@router.get(
    "/brand-safety/lists/{list_id}", response_model=BrandSafetyListRead, dependencies=[requires("audits:read")]
)
async def get_list(list_id: uuid.UUID, session: ReadSession) -> Response:
    """One of your brand-safety lists."""
    row = await repository.get(session, list_id)
    if row is None:
        raise service.not_found(list_id)
    return model_response(BrandSafetyListRead.of(row))


@router.patch(
    "/brand-safety/lists/{list_id}",
    response_model=BrandSafetyListRead,
    responses=error_responses(409),
    dependencies=[requires("audits:write")],
)
async def update_list(list_id: uuid.UUID, body: BrandSafetyListUpdate, session: Session) -> BrandSafetyListRead:
    """Rename a list, change its category or replace its terms; the revision goes up when
    something changed. 409: the new name is taken, or the terms would pass the 10,000 characters."""
    return BrandSafetyListRead.of(await service.update(session, list_id, body))


@router.delete(
    "/brand-safety/lists/{list_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[requires("audits:write")]
)
async def delete_list(list_id: uuid.UUID, session: Session) -> Response:
    """Delete a list; checks no longer apply it."""
    await service.delete(session, list_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/creators/{creator_id}/brand-safety",
    response_model=BrandSafetyRead,
    dependencies=[requires("audits:read")],
    openapi_extra={TENANT_VIEW: True},
)
async def check_creator(creator_id: uuid.UUID, session: ReadSession) -> Response:
    """The creator's bio, recent captions and the comments on them checked against the default list
    and yours: hits per category, each hit with its term, the text matched, the post and an
    excerpt. 404 until discovery's events have reached audit."""
    return model_response(await service.check(session, creator_id))
