import uuid

from fastapi import APIRouter, status
from starlette.responses import Response

from services.attribution.campaign import repository as campaigns
from services.attribution.db import idempotency
from services.attribution.enrolment import repository, service
from services.attribution.enrolment.schemas import EnrolmentCreate, EnrolmentRead, EnrolmentUpdate
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.errors import NotFound
from shared.idempotency import IdempotentRoute
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Every route here is tenant-private (attribution/api.py marks them: shared.tenancy).
router = APIRouter(route_class=IdempotentRoute)

EnrolmentPage = PageOut[EnrolmentRead]


async def _campaign(session, campaign_id: uuid.UUID):
    campaign = await campaigns.get(session, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    return campaign


@router.post(
    "/{campaign_id}/creators",
    status_code=status.HTTP_201_CREATED,
    response_model=EnrolmentRead,
    responses=error_responses(409),
    dependencies=[requires("attribution:write"), idempotency.depends],
)
async def enrol_creator(campaign_id: uuid.UUID, body: EnrolmentCreate, session: Session) -> EnrolmentRead:
    """Enrol a creator in the campaign on a deal; amounts in minor units of the campaign's currency.
    409 when the creator is already enrolled or the campaign has ended."""
    campaign, enrolment = await service.enrol(session, campaign_id, body)
    return EnrolmentRead.of(enrolment, campaign.currency)


@router.get("/{campaign_id}/creators", response_model=EnrolmentPage, dependencies=[requires("attribution:read")])
async def list_enrolments(campaign_id: uuid.UUID, session: ReadSession, page: Page) -> Response:
    """The campaign's creators and their deals, first enrolled first, one cursor page at a time."""
    campaign = await _campaign(session, campaign_id)
    found = await repository.list_page(session, page, campaign_id)
    return model_response(
        EnrolmentPage(
            items=[EnrolmentRead.of(e, campaign.currency) for e in found[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT),
        )
    )


@router.get(
    "/{campaign_id}/creators/{creator_id}", response_model=EnrolmentRead, dependencies=[requires("attribution:read")]
)
async def get_enrolment(campaign_id: uuid.UUID, creator_id: uuid.UUID, session: ReadSession) -> Response:
    """One creator's enrolment in the campaign, with its deal."""
    campaign = await _campaign(session, campaign_id)
    enrolment = await repository.get(session, campaign_id, creator_id)
    if enrolment is None:
        raise NotFound(f"creator {creator_id} is not enrolled in campaign {campaign_id}")
    return model_response(EnrolmentRead.of(enrolment, campaign.currency))


@router.patch(
    "/{campaign_id}/creators/{creator_id}",
    response_model=EnrolmentRead,
    responses=error_responses(409),
    dependencies=[requires("attribution:write")],
)
async def update_enrolment(
    campaign_id: uuid.UUID, creator_id: uuid.UUID, body: EnrolmentUpdate, session: Session
) -> EnrolmentRead:
    """Change a creator's deal; the deal after the change must still fit its type. 409 once the campaign has ended."""
    campaign, enrolment = await service.update(session, campaign_id, creator_id, body)
    return EnrolmentRead.of(enrolment, campaign.currency)


@router.delete(
    "/{campaign_id}/creators/{creator_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(409),
    dependencies=[requires("attribution:write")],
)
async def unenrol_creator(campaign_id: uuid.UUID, creator_id: uuid.UUID, session: Session) -> Response:
    """Remove a creator from the campaign. 409 once money has been recorded against the
    enrolment or the campaign has ended."""
    await service.unenrol(session, campaign_id, creator_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
