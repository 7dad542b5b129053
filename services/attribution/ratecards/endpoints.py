from fastapi import APIRouter, status
from starlette.responses import Response

from services.attribution.ratecards import repository, service
from services.attribution.ratecards.schemas import RateCardCreate, RateCardRead, read_of
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Tenant-private (attribution/api.py marks them: shared.tenancy).
router = APIRouter()

RateCardPage = PageOut[RateCardRead]


@router.get("", response_model=RateCardPage, dependencies=[requires("attribution:read")])
async def list_rate_cards(session: ReadSession, page: Page) -> Response:
    """Your rate card's versions, newest (the one in use) first; empty while the built-in default
    (GET /v1/attribution/rate-cards/default) is in use."""
    found = await repository.list_page(session, page)
    return model_response(RateCardPage(items=[read_of(c) for c in found[: page.limit]],
                                       next_cursor=repository.SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT)))


@router.get("/default", response_model=RateCardRead, dependencies=[requires("attribution:read")])
async def default_rate_card() -> Response:
    """The built-in rate card, with its source and assumptions: used until you create your own."""
    return model_response(service.default())


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RateCardRead, responses=error_responses(409),
             dependencies=[requires("attribution:write")])
async def create_rate_card(body: RateCardCreate, session: Session) -> RateCardRead:
    """A new version of your rate card, numbered after your latest; it is used from now on, and
    earlier versions stay as they were (GET .../media-report?rate_card_version=N uses one)."""
    return read_of(await service.create(session, body))
