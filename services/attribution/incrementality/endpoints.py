import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from starlette.responses import Response

from services.attribution.db import idempotency
from services.attribution.incrementality import audience as audience_service
from services.attribution.incrementality import repository, service
from services.attribution.incrementality.schemas import (
    AudienceHoldoutCreate, AudienceHoldoutRead, AudienceResultRead, HoldoutResultRead, HoldoutTestCreate, HoldoutTestRead,
)
from shared.app import model_response
from shared.db import ReadSession, Session, utcnow
from shared.errors import Conflict, NotFound
from shared.idempotency import IdempotentRoute
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Every route here is tenant-private (attribution/api.py marks them: shared.tenancy).
router = APIRouter(route_class=IdempotentRoute)

HoldoutTestPage = PageOut[HoldoutTestRead]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=HoldoutTestRead,
             responses=error_responses(409), dependencies=[requires("attribution:write"), idempotency.depends])
async def create_holdout_test(body: HoldoutTestCreate, session: Session) -> HoldoutTestRead:
    """Set up a holdout test: treatment and control regions (or countries) and a pre-period before
    a test period. 422 naming the field for a unit in both groups, an empty group, a code of the
    wrong shape, a reversed or overlapping period; 409 naming body.campaign_id for a campaign that
    is not yours."""
    return HoldoutTestRead.of(await service.create(session, body))


@router.get("", response_model=HoldoutTestPage, dependencies=[requires("attribution:read")])
async def list_holdout_tests(
    session: ReadSession, page: Page, campaign_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    """Your holdout tests, oldest first, one cursor page at a time; optionally of one campaign."""
    found = await repository.list_page(session, page, campaign_id=campaign_id)
    return model_response(HoldoutTestPage(
        items=[HoldoutTestRead.of(t) for t in found[: page.limit]],
        next_cursor=repository.SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT)))


@router.get("/{holdout_test_id}", response_model=HoldoutTestRead, dependencies=[requires("attribution:read")])
async def get_holdout_test(holdout_test_id: uuid.UUID, session: ReadSession) -> Response:
    """One of your holdout tests, as designed."""
    test = await repository.get(session, holdout_test_id)
    if test is None:
        raise NotFound(f"holdout test {holdout_test_id} does not exist")
    return model_response(HoldoutTestRead.of(test))


@router.get("/{holdout_test_id}/result", response_model=HoldoutResultRead, dependencies=[requires("attribution:read")])
async def holdout_test_result(holdout_test_id: uuid.UUID, session: ReadSession) -> Response:
    """The lift in orders and in revenue (per currency) with its 95 % interval and significance,
    computed now from your orders by difference-in-differences, beside the revenue attributed in
    the treatment group; `insufficient_data` says what is missing instead of a figure."""
    async with session.transaction() as reads:
        found = await service.result(reads, holdout_test_id, utcnow().date())
    return model_response(found)


audience = APIRouter(route_class=IdempotentRoute)


@audience.post("", status_code=status.HTTP_201_CREATED, response_model=AudienceHoldoutRead,
               responses=error_responses(409), dependencies=[requires("attribution:write"), idempotency.depends])
async def create_audience_holdout(body: AudienceHoldoutCreate, session: Session, request: Request) -> AudienceHoldoutRead:
    """Hold a share of a creator's audience out of the campaign's tracked links: from `starts_on`
    to `ends_on`, the redirect sends that share of the links' visitors (each always to the same
    group) to the control destination, never credited; the result compares the groups'
    conversion. 422 naming the field for a share outside 0.01-0.5, reversed dates, a link listed
    twice; 409 naming the field for a campaign or link that is not yours (or not the campaign's),
    a start in the past, or a link already in a holdout over those days; 409 when the installation
    has no ATTRIBUTION_HASH_KEY (each replica would then hash a visitor differently, and a visitor
    could change groups)."""
    if request.app.state.ctx.settings.attribution_hash_key is None:
        raise Conflict([{"field": "body", "reason": "this installation has no ATTRIBUTION_HASH_KEY: without it each "
                         "attribution process hashes visitors with a key of its own, so a visitor could change groups; "
                         "set one (./limelight up makes it) before holding an audience out"}])
    return AudienceHoldoutRead.of(await audience_service.create(session, body, utcnow().date()))


@audience.get("/{audience_holdout_id}", response_model=AudienceHoldoutRead, dependencies=[requires("attribution:read")])
async def get_audience_holdout(audience_holdout_id: uuid.UUID, session: ReadSession) -> Response:
    """One of your audience holdouts, as designed."""
    async with session.transaction() as reads:
        return model_response(AudienceHoldoutRead.of(await audience_service.get(reads, audience_holdout_id)))


@audience.get("/{audience_holdout_id}/result", response_model=AudienceResultRead, dependencies=[requires("attribution:read")])
async def audience_holdout_result(audience_holdout_id: uuid.UUID, session: ReadSession) -> Response:
    """Each group's visitors, conversion and revenue so far, the difference in conversion rate
    (Newcombe's interval) and in revenue per visitor (Welch's), whether each is significant, and
    what crediting attributed from the treatment group; `insufficient_data` says what is missing."""
    async with session.transaction() as reads:
        return model_response(await audience_service.result(reads, audience_holdout_id, utcnow()))
