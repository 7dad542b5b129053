import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from services.discovery.brandfit import repository, service
from services.discovery.brandfit.schemas import (
    MAX_LIMIT,
    BrandFitRequest,
    BrandFitResult,
    BriefCreate,
    BriefRead,
    BriefRunResult,
    BriefUpdate,
)
from services.discovery.db import idempotency
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.idempotency import IdempotentRoute
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Every route here is marked tenant-private (discovery/api.py): saved briefs are; brand fit
# itself reads only the shared catalogue.
router = APIRouter(route_class=IdempotentRoute)

BriefPage = PageOut[BriefRead]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many creators to return.")]


@router.post("/brand-fit", response_model=BrandFitResult, dependencies=[requires("discovery:read")])
async def brand_fit(body: BrandFitRequest, session: Session) -> Response:
    """Creators ranked by how well they fit a brief, each with a 0-100 score and a plain-language
    breakdown of its seven factors (audience, content, authenticity, engagement, price, brand
    safety, competitor sponsorships)."""
    return model_response(await service.rank(session, body, body.limit))


@router.post(
    "/briefs",
    status_code=status.HTTP_201_CREATED,
    response_model=BriefRead,
    responses=error_responses(409),
    dependencies=[requires("discovery:write"), idempotency.depends],
)
async def create_brief(body: BriefCreate, session: Session) -> BriefRead:
    """Save a brief under a name to re-run it later. Only your workspace sees it."""
    return BriefRead.of(await service.create(session, body))


@router.get("/briefs", response_model=BriefPage, dependencies=[requires("discovery:read")])
async def list_briefs(session: ReadSession, page: Page) -> Response:
    """Your saved briefs, oldest first, one cursor page at a time."""
    rows = await repository.list_page(session, page)
    return model_response(
        BriefPage(
            items=[BriefRead.of(b) for b in rows[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(rows, page.limit, repository.DEFAULT_SORT),
        )
    )


@router.get("/briefs/{brief_id}", response_model=BriefRead, dependencies=[requires("discovery:read")])
async def get_brief(brief_id: uuid.UUID, session: ReadSession) -> Response:
    """One of your saved briefs."""
    saved = await repository.get(session, brief_id)
    if saved is None:
        raise service.not_found(brief_id)
    return model_response(BriefRead.of(saved))


@router.patch(
    "/briefs/{brief_id}",
    response_model=BriefRead,
    responses=error_responses(409),
    dependencies=[requires("discovery:write")],
)
async def update_brief(brief_id: uuid.UUID, body: BriefUpdate, session: Session) -> BriefRead:
    """Rename a saved brief or replace the brief it holds."""
    return BriefRead.of(await service.update(session, brief_id, body))


@router.delete("/briefs/{brief_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[requires("discovery:write")])
async def delete_brief(brief_id: uuid.UUID, session: Session) -> Response:
    """Delete a saved brief."""
    await service.delete(session, brief_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/briefs/{brief_id}/run", response_model=BriefRunResult, dependencies=[requires("discovery:read")])
async def run_brief(brief_id: uuid.UUID, session: Session, limit: Limit = 20) -> Response:
    """Run a saved brief against the index as it is now: the same answer as brand fit, with the brief's id."""
    saved, result = await service.run(session, brief_id, limit)
    return model_response(BriefRunResult(**result.model_dump(), brief_id=saved.id))
