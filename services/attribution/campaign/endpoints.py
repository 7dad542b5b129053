import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from services.attribution.campaign import repository, service
from services.attribution.campaign.schemas import CampaignCost, CampaignCreate, CampaignRead, CampaignUpdate, Status
from services.attribution.db import idempotency
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.errors import NotFound
from shared.idempotency import IdempotentRoute
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Every route here is tenant-private (attribution/api.py marks them: shared.tenancy).
router = APIRouter(route_class=IdempotentRoute)

CampaignPage = PageOut[CampaignRead]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignRead,
    dependencies=[requires("attribution:write"), idempotency.depends],
)
async def create_campaign(body: CampaignCreate, session: Session) -> CampaignRead:
    """Create a campaign, in `draft`. Only your workspace sees it."""
    return CampaignRead.of(await service.create(session, body))


@router.get("", response_model=CampaignPage, dependencies=[requires("attribution:read")])
async def list_campaigns(
    session: ReadSession, page: Page, status: Annotated[Status | None, Query()] = None
) -> Response:
    """Your campaigns, oldest first, one cursor page at a time; optionally only one status."""
    rows = await repository.list_page(session, page, status=status)
    return model_response(
        CampaignPage(
            items=[CampaignRead.of(c) for c in rows[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(rows, page.limit, repository.DEFAULT_SORT),
        )
    )


@router.get("/{campaign_id}", response_model=CampaignRead, dependencies=[requires("attribution:read")])
async def get_campaign(campaign_id: uuid.UUID, session: ReadSession) -> Response:
    """One of your campaigns."""
    campaign = await repository.get(session, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    return model_response(CampaignRead.of(campaign))


@router.patch(
    "/{campaign_id}",
    response_model=CampaignRead,
    responses=error_responses(409),
    dependencies=[requires("attribution:write")],
)
async def update_campaign(campaign_id: uuid.UUID, body: CampaignUpdate, session: Session) -> CampaignRead:
    """Change a campaign, or move it along its lifecycle: draft → active ⇄ paused → ended."""
    return CampaignRead.of(await service.update(session, campaign_id, body))


@router.get("/{campaign_id}/cost", response_model=CampaignCost, dependencies=[requires("attribution:read")])
async def campaign_cost(campaign_id: uuid.UUID, session: ReadSession) -> Response:
    """What the campaign costs so far, in minor units of its currency: its creators' fees and the
    value of products given, commission (from the ledger), and what is left of the budget."""
    return model_response(await service.cost(session, campaign_id))
