"""Enrolment rules: a deal that holds together for its type (the body alone is checked by its
model, 422; a change that contradicts the stored deal is a 409 here), deliverables due inside the
campaign, one enrolment per creator per campaign, nothing changed once the campaign has ended,
and no removal once money has been recorded against the enrolment. Every change is published
(CreatorEnrolled, DealChanged, CreatorUnenrolled on attribution.campaign.v1) through the outbox.

Each change locks the campaign's row first (SELECT ... FOR UPDATE): enrolments of one campaign
are checked and written one at a time, so two concurrent enrolments of a creator meet the
"already enrolled" check instead of the unique constraint, and a currency change cannot slip
between the check of an enrolment's amounts and its write."""

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.campaign import repository as campaigns
from services.attribution.campaign.models import Campaign
from services.attribution.campaign.service import TOPIC
from services.attribution.codes.models import Code
from services.attribution.db import SERVICE, outbox
from services.attribution.enrolment import repository
from services.attribution.enrolment.models import Enrolment
from services.attribution.enrolment.schemas import EnrolmentCreate, EnrolmentUpdate, deal_problem
from services.attribution.links.models import Link
from shared.contracts.attribution import EnrolmentPayload
from shared.contracts.envelope import new_envelope
from shared.errors import Conflict, NotFound

# Column names as the API and the event name them.
_FIELD = {"fee_minor": "fee", "product_value_minor": "product_value"}


async def locked_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign:
    campaign = await campaigns.get(session, campaign_id, for_update=True)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    if campaign.status == "ended":
        raise Conflict([{"field": "path.campaign_id", "reason": "the campaign has ended; its creators and deals cannot change"}])
    return campaign


def check_due_dates(campaign: Campaign, deliverables: list[dict]) -> None:
    """A deliverable is due inside the campaign: a date valid alone that contradicts the
    campaign's stored dates is a conflict with its state (409), as campaign dates are."""
    starts, ends = campaign.starts_on.isoformat(), campaign.ends_on.isoformat()
    for index, deliverable in enumerate(deliverables):
        if not starts <= deliverable["due_on"] <= ends:
            raise Conflict(
                [{"field": f"body.deliverables.{index}.due_on", "reason": f"must be inside the campaign, {starts} to {ends}"}]
            )


async def _publish(session: AsyncSession, campaign: Campaign, enrolment: Enrolment, event_type: str, changed: list[str]) -> None:
    payload = EnrolmentPayload(
        campaign_id=enrolment.campaign_id,
        creator_id=enrolment.creator_id,
        deal_type=enrolment.deal_type,
        fee_minor=enrolment.fee_minor,
        product_value_minor=enrolment.product_value_minor,
        currency=campaign.currency,
        deliverables=enrolment.deliverables,
        whitelisting=enrolment.whitelisting,
        changed_fields=sorted(_FIELD.get(name, name) for name in changed),
    )
    # Keyed by the campaign, as its own events are: one ordered stream per campaign.
    event = new_envelope(
        event_type=event_type, producer=SERVICE, aggregate_id=str(campaign.id), tenant_id=campaign.tenant_id, payload=payload
    )
    await outbox.add(session, TOPIC, event)


def _deal_columns(data: EnrolmentCreate | EnrolmentUpdate) -> dict:
    """The request's fields as columns (JSON-ready dates for the JSONB ones). Only the fields
    sent, but each of them whole: a nested default (the rights' `status`) is stored too."""
    given = data.model_dump(mode="json", include=data.model_fields_set - {"creator_id"})
    names = {"fee": "fee_minor", "product_value": "product_value_minor"}
    return {names.get(key, key): value for key, value in given.items()}


async def enrol(session: AsyncSession, campaign_id: uuid.UUID, data: EnrolmentCreate) -> tuple[Campaign, Enrolment]:
    campaign = await locked_campaign(session, campaign_id)
    columns = {"fee_minor": 0, "product_value_minor": 0, "deliverables": [], "whitelisting": None, **_deal_columns(data)}
    check_due_dates(campaign, columns["deliverables"])
    if await repository.get(session, campaign_id, data.creator_id) is not None:
        raise Conflict(
            [{"field": "body.creator_id", "reason": f"creator {data.creator_id} is already enrolled in this campaign; change the deal with PATCH"}]
        )
    enrolment = Enrolment(id=uuid.uuid4(), campaign_id=campaign_id, creator_id=data.creator_id, **columns)
    session.add(enrolment)  # shared.tenancy stamps the caller's tenant
    await session.flush()
    await session.refresh(enrolment)
    await _publish(session, campaign, enrolment, "CreatorEnrolled", [])
    return campaign, enrolment


async def _live_tracking(session: AsyncSession, campaign_id: uuid.UUID, creator_id: uuid.UUID) -> tuple[list[str], list[str]]:
    """The creator's codes and link slugs in the campaign that are neither revoked nor expired."""
    now = func.now()
    found = []
    for model, name in ((Code, Code.code), (Link, Link.slug)):
        found.append(list((await session.execute(
            select(name).where(model.campaign_id == campaign_id, model.creator_id == creator_id,
                               model.revoked_at.is_(None), or_(model.expires_at.is_(None), model.expires_at > now))
            .order_by(name))).scalars()))
    return found[0], found[1]


async def _locked(session: AsyncSession, campaign_id: uuid.UUID, creator_id: uuid.UUID) -> tuple[Campaign, Enrolment]:
    campaign = await locked_campaign(session, campaign_id)
    enrolment = await repository.get(session, campaign_id, creator_id, for_update=True)
    if enrolment is None:
        raise NotFound(f"creator {creator_id} is not enrolled in campaign {campaign_id}")
    return campaign, enrolment


async def update(
    session: AsyncSession, campaign_id: uuid.UUID, creator_id: uuid.UUID, data: EnrolmentUpdate
) -> tuple[Campaign, Enrolment]:
    """Change the deal; the deal after the change is checked as a whole."""
    campaign, enrolment = await _locked(session, campaign_id, creator_id)
    changes = {k: v for k, v in _deal_columns(data).items() if getattr(enrolment, k) != v}
    if not changes:
        return campaign, enrolment
    merged = {k: changes.get(k, getattr(enrolment, k)) for k in ("deal_type", "fee_minor", "product_value_minor")}
    problem = deal_problem(merged["deal_type"], merged["fee_minor"], merged["product_value_minor"])
    if problem is not None:
        # The body is valid alone (EnrolmentUpdate checks what it contradicts by itself): it
        # contradicts the stored deal, and the field named is the one to send with it.
        field, reason = problem
        after = f"{merged['deal_type']} with {field} {merged[f'{field}_minor']}"
        raise Conflict([{"field": f"body.{field}", "reason": f"{reason}; the deal would be {after}: send deal_type and {field} together"}])
    if "deliverables" in changes:
        check_due_dates(campaign, changes["deliverables"])
    for key, value in changes.items():
        setattr(enrolment, key, value)
    await session.flush()
    await session.refresh(enrolment)
    await _publish(session, campaign, enrolment, "DealChanged", list(changes))
    return campaign, enrolment


async def unenrol(session: AsyncSession, campaign_id: uuid.UUID, creator_id: uuid.UUID) -> None:
    """Remove the creator from the campaign, unless money has been recorded against it (the
    ledger's entries must keep pointing at the deal they were earned under) or a code or a link
    of theirs in it is still live: orders carrying it would be credited to a creator no longer in
    the campaign. Codes and links are made under the enrolment's lock (codes/service.py), so none
    appears while this looks."""
    campaign, enrolment = await _locked(session, campaign_id, creator_id)
    if enrolment.money_recorded:
        raise Conflict(
            [{"field": "path.creator_id", "reason": f"money has been recorded against creator {creator_id} in this campaign; "
              "an enrolment with money against it cannot be removed"}]
        )
    codes, links = await _live_tracking(session, campaign_id, creator_id)
    if codes or links:
        live = ", ".join([*(f"code {code}" for code in codes), *(f"link {slug}" for slug in links)])
        raise Conflict(
            [{"field": "path.creator_id", "reason": f"creator {creator_id} still has live tracking in this campaign ({live}); "
              "revoke it first (POST /v1/attribution/codes/{id}/revoke, POST /v1/attribution/links/{id}/revoke)"}]
        )
    await _publish(session, campaign, enrolment, "CreatorUnenrolled", [])
    await session.delete(enrolment)
    await session.flush()
