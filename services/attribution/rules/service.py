"""Commission rule versions: made, never edited. A new version belongs to the campaign's rule or
to an enrolled creator's override, takes effect at `effective_from` (now by default, never in the
past: a new version never changes what an order already placed earns), and is numbered after the
scope's latest. The rule an order is paid under is the creator's override in force when it was
placed, else the campaign's (`rule_in_force`).

Each new version locks the campaign's row first (as enrolments do), so two concurrent versions of
one scope are numbered one after the other, and an enrolment cannot be removed between the check
that the creator is enrolled and the write of the override."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.enrolment import repository as enrolments
from services.attribution.enrolment.service import locked_campaign
from services.attribution.rules import repository
from services.attribution.rules.models import CommissionRule
from services.attribution.rules.schemas import RuleCreate
from shared.db import Reads, utcnow
from shared.errors import Conflict, Invalid


async def create_version(session: AsyncSession, campaign_id: uuid.UUID, creator_id: uuid.UUID | None,
                         data: RuleCreate) -> CommissionRule:
    """A new version of the campaign's rule (creator_id None) or of the creator's override. 404
    for an unknown campaign; 409 when the campaign has ended, the creator is not enrolled or
    `effective_from` is not after the latest version's; 422 for a currency not the campaign's."""
    campaign = await locked_campaign(session, campaign_id)
    if data.currency is not None and data.currency != campaign.currency:
        raise Invalid("body.currency", f"the campaign pays in {campaign.currency}: a rule's flat amounts and caps are in it")
    if creator_id is not None and await enrolments.get(session, campaign_id, creator_id) is None:
        raise Conflict([{"field": "path.creator_id",
                         "reason": f"creator {creator_id} is not enrolled in the campaign; enrol them before overriding its rule"}])
    now = utcnow()
    effective_from = data.effective_from or now
    if effective_from < now:
        raise Conflict([{"field": "body.effective_from", "reason": f"{effective_from.isoformat()} is in the past: a new version "
                         "never changes what orders already placed earn; leave it out to take effect now"}])
    previous = await repository.latest(session, campaign_id, creator_id)
    if previous is not None and effective_from <= previous.effective_from:
        raise Conflict([{"field": "body.effective_from", "reason": f"must be after version {previous.version}'s "
                         f"{previous.effective_from.isoformat()}: versions take effect one after the other"}])
    rule = CommissionRule(
        id=uuid.uuid4(), campaign_id=campaign_id, creator_id=creator_id, version=(previous.version + 1) if previous else 1,
        effective_from=effective_from, currency=campaign.currency, **data.columns(),
    )
    session.add(rule)  # shared.tenancy stamps the caller's tenant
    await session.flush()
    await session.refresh(rule)
    return rule


async def versions_for(session: AsyncSession, campaign_id: uuid.UUID, creator_id: uuid.UUID) -> list[CommissionRule]:
    """Every version of the campaign's rule and of the creator's override: what `rule_in_force`
    chooses from."""
    return await repository.versions_for(session, campaign_id, creator_id)


async def rule_in_force(session: AsyncSession | Reads, campaign_id: uuid.UUID, creator_id: uuid.UUID | None,
                        placed_at: datetime) -> CommissionRule | None:
    """The version an order placed at `placed_at` is paid under: the creator's override in force
    then, else the campaign's rule in force then, else None (no commission)."""
    if creator_id is not None:
        override = await repository.in_force(session, campaign_id, creator_id, placed_at)
        if override is not None:
            return override
    return await repository.in_force(session, campaign_id, None, placed_at)
