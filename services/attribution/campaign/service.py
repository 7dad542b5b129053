"""Campaign rules: dates in order, a budget in minor units of a real currency, a status that
only moves forward along the lifecycle, a currency and dates that its enrolments' deals still
fit, and every change published (attribution.campaign.v1) through the outbox with the owning
tenant on the envelope."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.campaign import repository
from services.attribution.campaign.models import Campaign
from services.attribution.campaign.schemas import CampaignCost, CampaignCreate, CampaignUpdate
from services.attribution.db import SERVICE, outbox
from services.attribution.enrolment import repository as enrolments
from services.attribution.ledger import repository as ledger
from services.attribution.rules import repository as rules
from shared.contracts.attribution import CampaignPayload
from shared.contracts.envelope import new_envelope
from shared.db import Reads
from shared.errors import Conflict, Invalid, NotFound
from services.attribution.models import InvalidParams, as_dict, parameters
from shared.money import from_minor

TOPIC = "attribution.campaign.v1"

# The lifecycle: where each status may go next. `ended` is final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"active"}),
    "active": frozenset({"paused", "ended"}),
    "paused": frozenset({"active", "ended"}),
    "ended": frozenset(),
}


def _check_dates(campaign_starts, campaign_ends) -> None:
    if campaign_ends < campaign_starts:
        raise Invalid("body.ends_on", f"must be on or after starts_on ({campaign_starts.isoformat()})")


def _check_new_dates(campaign: Campaign, data: CampaignUpdate, changes: dict) -> None:
    """Dates that contradict each other in the body are invalid (422); a date that contradicts
    the campaign's other, stored date conflicts with its current state (409)."""
    given = data.model_fields_set & {"starts_on", "ends_on"}
    if given == {"starts_on", "ends_on"}:
        _check_dates(data.starts_on, data.ends_on)
        return
    starts, ends = changes.get("starts_on", campaign.starts_on), changes.get("ends_on", campaign.ends_on)
    if ends < starts:
        field = next(iter(given))
        other = "ends_on" if field == "starts_on" else "starts_on"
        raise Conflict(
            [{"field": f"body.{field}", "reason": f"the campaign's {other} is {getattr(campaign, other).isoformat()}; "
              "change both dates together"}]
        )


def _model_params(model: str, raw: dict | None) -> dict:
    """The model's parameters validated (422 naming `body.attribution_params.<name>`), defaults filled in."""
    try:
        return as_dict(parameters(model, raw or {}))
    except InvalidParams as exc:
        field = exc.field if exc.field.startswith("params") else f"params.{exc.field}"
        raise Invalid(f"body.attribution_{field}", exc.reason) from None


def _columns(fields: dict) -> dict:
    return {("budget_minor" if key == "budget" else key): value for key, value in fields.items()}


async def _check_enrolments_still_fit(session: AsyncSession, campaign: Campaign, data: CampaignUpdate, changes: dict) -> None:
    """A currency change would re-denominate the deals' amounts, and new dates could leave a
    deliverable outside the campaign: both are refused while enrolments say otherwise (409)."""
    if "currency" not in changes and not changes.keys() & {"starts_on", "ends_on"}:
        return
    enrolled = await enrolments.of_campaign(session, campaign.id)
    if "currency" in changes:
        versions = await rules.count_of_campaign(session, campaign.id)
        if versions:
            raise Conflict(
                [{"field": "body.currency", "reason": f"{versions} commission rule version(s) hold flat amounts and caps in "
                  f"{campaign.currency} and are never edited; the currency of a campaign with rules cannot change"}]
            )
        with_money = [e for e in enrolled if e.fee_minor or e.product_value_minor or e.money_recorded]
        if with_money:
            raise Conflict(
                [{"field": "body.currency", "reason": f"{len(with_money)} enrolment(s) have fees, product value or recorded "
                  f"money in {campaign.currency}; the currency of a campaign with money in it cannot change"}]
            )
        if "budget" not in data.model_fields_set and campaign.budget_minor:
            raise Conflict(
                [{"field": "body.budget", "reason": f"the budget is {campaign.budget_minor} minor units of {campaign.currency}; "
                  f"send it in minor units of {changes['currency']} with the new currency"}]
            )
    starts, ends = changes.get("starts_on", campaign.starts_on).isoformat(), changes.get("ends_on", campaign.ends_on).isoformat()
    for enrolment in enrolled:
        for deliverable in enrolment.deliverables:
            if not starts <= deliverable["due_on"] <= ends:
                field = "body.starts_on" if deliverable["due_on"] < starts else "body.ends_on"
                raise Conflict(
                    [{"field": field, "reason": f"a deliverable of creator {enrolment.creator_id} is due on "
                      f"{deliverable['due_on']}, outside {starts} to {ends}; move it first"}]
                )


async def _publish(session: AsyncSession, campaign: Campaign, event_type: str, changed: list[str]) -> None:
    payload = CampaignPayload(
        campaign_id=campaign.id,
        name=campaign.name,
        brand=campaign.brand,
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        budget=from_minor(campaign.budget_minor, campaign.currency),
        budget_minor=campaign.budget_minor,
        currency=campaign.currency,
        status=campaign.status,
        changed_fields=changed,
    )
    event = new_envelope(
        event_type=event_type,
        producer=SERVICE,
        aggregate_id=str(campaign.id),
        tenant_id=campaign.tenant_id,
        payload=payload,
    )
    await outbox.add(session, TOPIC, event)


async def create(session: AsyncSession, data: CampaignCreate) -> Campaign:
    _check_dates(data.starts_on, data.ends_on)
    columns = _columns(data.model_dump())
    columns["attribution_params"] = _model_params(data.attribution_model, data.attribution_params)
    campaign = Campaign(id=uuid.uuid4(), status="draft", **columns)
    session.add(campaign)  # shared.tenancy stamps the caller's tenant
    await session.flush()
    await session.refresh(campaign)
    await _publish(session, campaign, "CampaignCreated", sorted(data.model_dump()))
    return campaign


async def update(session: AsyncSession, campaign_id: uuid.UUID, data: CampaignUpdate) -> Campaign:
    campaign = await repository.get(session, campaign_id, for_update=True)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    given = _columns(data.model_dump(exclude_unset=True))
    if given.keys() & {"attribution_model", "attribution_params"}:
        model = given.get("attribution_model", campaign.attribution_model)
        kept = campaign.attribution_params if model == campaign.attribution_model else {}
        given["attribution_params"] = _model_params(model, given.get("attribution_params", kept))
    changes = {k: v for k, v in given.items() if getattr(campaign, k) != v}
    if not changes:
        return campaign
    if campaign.status == "ended":
        raise Conflict([{"field": "body", "reason": "an ended campaign cannot change"}])
    if "status" in changes and changes["status"] not in TRANSITIONS[campaign.status]:
        allowed = ", ".join(sorted(TRANSITIONS[campaign.status])) or "nothing"
        raise Conflict(
            [{"field": "body.status", "reason": f"a {campaign.status} campaign can move to {allowed}, not {changes['status']}"}]
        )
    _check_new_dates(campaign, data, changes)
    await _check_enrolments_still_fit(session, campaign, data, changes)
    for key, value in changes.items():
        setattr(campaign, key, value)
    await session.flush()
    await session.refresh(campaign)
    await _publish(session, campaign, "CampaignUpdated", sorted("budget" if k == "budget_minor" else k for k in changes))
    return campaign


async def cost(session: Reads, campaign_id: uuid.UUID) -> CampaignCost:
    """Fees and product value of the campaign's enrolments, and its net commission in the ledger
    (commissions less clawbacks, in the campaign's currency)."""
    campaign = await repository.get(session, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    count, fees, product_value = await enrolments.totals(session, campaign_id)
    commission = await ledger.campaign_commission(session, campaign_id, campaign.currency)
    total = fees + product_value + commission
    return CampaignCost(
        campaign_id=campaign.id, currency=campaign.currency, enrolments=count, fees=fees, product_value=product_value,
        commission=commission, total=total, budget=campaign.budget_minor, budget_remaining=campaign.budget_minor - total,
    )
