import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from services.attribution.campaign import repository as campaigns
from services.attribution.db import idempotency
from services.attribution.enrolment import repository as enrolments
from services.attribution.rules import repository, service
from services.attribution.rules.schemas import RuleCreate, RuleRead
from shared.app import model_response
from shared.db import ReadSession, Session, utcnow
from shared.errors import NotFound
from shared.idempotency import IdempotentRoute
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut
from shared.validation import UtcDateTime

# Every route here is tenant-private (attribution/api.py marks them: shared.tenancy).
router = APIRouter(route_class=IdempotentRoute)

RulePage = PageOut[RuleRead]


async def _campaign(session, campaign_id: uuid.UUID):
    campaign = await campaigns.get(session, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    return campaign


async def _page(session, page, campaign_id: uuid.UUID, creator_id: uuid.UUID | None) -> Response:
    found = await repository.list_page(session, page, campaign_id, creator_id)
    return model_response(
        RulePage(items=[RuleRead.of(r) for r in found[: page.limit]],
                 next_cursor=repository.SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT))
    )


@router.post(
    "/{campaign_id}/rules",
    status_code=status.HTTP_201_CREATED,
    response_model=RuleRead,
    responses=error_responses(409),
    dependencies=[requires("attribution:write"), idempotency.depends],
)
async def create_campaign_rule(campaign_id: uuid.UUID, body: RuleCreate, session: Session) -> RuleRead:
    """Make a new version of the campaign's commission rule; versions are never edited. 422 names
    the field (a percent out of range, tiers not increasing, a currency not the campaign's); 409
    when the campaign has ended or `effective_from` is in the past or not after the latest version's."""
    return RuleRead.of(await service.create_version(session, campaign_id, None, body))


@router.get("/{campaign_id}/rules", response_model=RulePage, dependencies=[requires("attribution:read")])
async def list_campaign_rules(campaign_id: uuid.UUID, session: ReadSession, page: Page) -> Response:
    """Every version of the campaign's commission rule, first version first, one cursor page at a time."""
    await _campaign(session, campaign_id)
    return await _page(session, page, campaign_id, None)


@router.get("/{campaign_id}/rules/current", response_model=RuleRead, dependencies=[requires("attribution:read")])
async def current_rule(
    campaign_id: uuid.UUID,
    session: ReadSession,
    at: Annotated[UtcDateTime | None, Query(description="The time to look at (an order's placed_at); default now.")] = None,
    creator_id: Annotated[uuid.UUID | None, Query(description="The creator whose override, if any, takes precedence.")] = None,
) -> Response:
    """The rule version in force at `at`: the creator's override when one is in force, else the
    campaign's. 404 when none is in force then."""
    await _campaign(session, campaign_id)
    rule = await service.rule_in_force(session, campaign_id, creator_id, at or utcnow())
    if rule is None:
        raise NotFound(f"campaign {campaign_id} has no commission rule in force at that time")
    return model_response(RuleRead.of(rule))


@router.post(
    "/{campaign_id}/creators/{creator_id}/rules",
    status_code=status.HTTP_201_CREATED,
    response_model=RuleRead,
    responses=error_responses(409),
    dependencies=[requires("attribution:write"), idempotency.depends],
)
async def create_creator_rule(campaign_id: uuid.UUID, creator_id: uuid.UUID, body: RuleCreate, session: Session) -> RuleRead:
    """Make a new version of one enrolled creator's override of the campaign's rule. 409 naming
    `creator_id` when the creator is not enrolled; otherwise the errors of the campaign's rule."""
    return RuleRead.of(await service.create_version(session, campaign_id, creator_id, body))


@router.get("/{campaign_id}/creators/{creator_id}/rules", response_model=RulePage, dependencies=[requires("attribution:read")])
async def list_creator_rules(campaign_id: uuid.UUID, creator_id: uuid.UUID, session: ReadSession, page: Page) -> Response:
    """Every version of the creator's override, first version first. 404 when the creator is not enrolled."""
    await _campaign(session, campaign_id)
    if await enrolments.get(session, campaign_id, creator_id) is None:
        raise NotFound(f"creator {creator_id} is not enrolled in campaign {campaign_id}")
    return await _page(session, page, campaign_id, creator_id)
