"""Fraud settings, creators' own customer keys, and the review of held orders. Tenant-private
(attribution/api.py marks them)."""

import uuid
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from starlette.responses import Response

from services.attribution.fraud import repository, review, service
from services.attribution.fraud.rules import Thresholds
from services.attribution.fraud.schemas import (
    CustomerKeyCreate,
    CustomerKeyRead,
    DecisionBody,
    FraudSettingsBody,
    FraudSettingsRead,
    ReviewRead,
)
from services.attribution.orders.model import customer_hash
from shared.app import model_response
from shared.db import ReadSession, Session, utcnow
from shared.errors import NotFound, Unavailable
from shared.identity import Principal, requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

fraud = APIRouter()
creators = APIRouter()

_DEFAULTS = Thresholds()
ReviewPage = PageOut[ReviewRead]


def _settings(limits: Thresholds) -> FraudSettingsRead:
    return FraudSettingsRead(thresholds=asdict(limits), defaults=asdict(_DEFAULTS))


@fraud.get("/settings", response_model=FraudSettingsRead, dependencies=[requires("attribution:read")])
async def get_settings(session: ReadSession) -> FraudSettingsRead:
    """The fraud rules' thresholds in force for you, beside the defaults."""
    return _settings(await service.thresholds_of(session))


@fraud.put("/settings", response_model=FraudSettingsRead, responses=error_responses(422),
           dependencies=[requires("attribution:write")])
async def put_settings(body: FraudSettingsBody, session: Session) -> FraudSettingsRead:
    """Set some thresholds (the others keep theirs); they judge orders credited from now on."""
    return _settings(await service.save_thresholds(session, body.model_dump(exclude_unset=True)))


@fraud.get("/reviews", response_model=ReviewPage, dependencies=[requires("attribution:read")])
async def list_reviews(
    session: ReadSession, page: Page,
    status_: Annotated[Literal["held", "approved", "rejected"] | None, Query(alias="status", description="Only these.")] = None,
    creator_id: Annotated[uuid.UUID | None, Query(description="Only this creator's.")] = None,
) -> Response:
    """Orders the fraud rules held, oldest first, each with the rules that fired, why, and their evidence."""
    found = await repository.reviews_page(session, page, status=status_, creator_id=creator_id)
    return model_response(ReviewPage(
        items=[ReviewRead.of(r) for r in found[: page.limit]],
        next_cursor=repository.REVIEW_SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT)))


@fraud.get("/reviews/{review_id}", response_model=ReviewRead, dependencies=[requires("attribution:read")])
async def get_review(review_id: uuid.UUID, session: ReadSession) -> ReviewRead:
    """One review: the order's findings and, once decided, who decided what, when and why."""
    found = await repository.review(session, review_id)
    if found is None:
        raise NotFound(f"fraud review {review_id} does not exist")
    return ReviewRead.of(found)


@fraud.post("/reviews/{review_id}/decision", response_model=ReviewRead, responses=error_responses(404, 409, 422),
            dependencies=[requires("attribution:write")])
async def decide_review(review_id: uuid.UUID, body: DecisionBody, session: Session, principal: Principal) -> ReviewRead:
    """Approve (the commission follows the normal approval path) or reject (a clawback reverses it) a
    held order. The same decision again is a no-op; the other one is a 409."""
    decided = await review.decide(session, review_id, body.decision, body.note.strip(), principal.subject, utcnow())
    return ReviewRead.of(decided)


@creators.post("/{creator_id}/customer-keys", status_code=status.HTTP_201_CREATED, response_model=CustomerKeyRead,
               responses=error_responses(404, 422, 503), dependencies=[requires("attribution:write")])
async def add_customer_key(creator_id: uuid.UUID, body: CustomerKeyCreate, request: Request, session: Session) -> CustomerKeyRead:
    """Register the creator's own e-mail or customer id (hashed as orders are; never kept in clear):
    an order by it credited to the creator is held as a self-referral. 404 for a creator on none of
    your campaigns."""
    key = request.app.state.ctx.settings.attribution_hash_key
    if key is None or len(key.get_secret_value()) < 16:
        raise Unavailable("ATTRIBUTION_HASH_KEY is not set: customers cannot be hashed as orders are")
    customer_key = customer_hash(key.get_secret_value().encode())(body.identifier())
    created = await service.register_customer_key(session, creator_id, customer_key)
    return CustomerKeyRead(creator_id=creator_id, customer_key=customer_key, created=created)
