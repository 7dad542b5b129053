"""An order's candidate touches — its discount codes and its tracked-link clicks, with why each
one cannot win (revoked, expired, used up, flagged, held out) — and the attribution settings
that decide among them: those of the campaign the qualifying touches belong to."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.campaign.models import Campaign
from services.attribution.clicks.models import Click
from services.attribution.codes.models import Code
from services.attribution.crediting.credit import Policy, Touch, qualifying
from services.attribution.enrolment.models import Enrolment
from services.attribution.links.models import Link
from services.attribution.orders import batch
from services.attribution.orders.models import PartnerOrder
from shared.db import transaction_memo
from shared.tenancy import built_once


def _creator_name(creator_id: uuid.UUID) -> str:
    return f"creator {creator_id}"


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError):
        return None


# Built once with bind parameters (docs/decisions/0057).
_CODES = built_once(select(Code).where(func.upper(Code.code).in_(bindparam("codes", expanding=True))))
_ENROLLED = built_once(select(Enrolment.campaign_id, Enrolment.creator_id).where(
    Enrolment.campaign_id.in_(bindparam("campaigns", expanding=True)),
    Enrolment.creator_id.in_(bindparam("creators", expanding=True))))
_CLICKS = built_once(
    select(Click, Link).join(Link, Link.id == Click.link_id).where(Click.id.in_(bindparam("ids", expanding=True))))


async def touches_of(session: AsyncSession, row: PartnerOrder, *,
                     admitted: bool = False) -> tuple[list[Touch], dict[str, uuid.UUID]]:
    """The order's candidate touches: its codes (matched whatever the case) and its click ids.
    `admitted`: the order was credited already, so a code's usage limit, which it counts towards
    itself, is not held against it (a re-computation)."""
    touches: list[Touch] = []
    code_ids: dict[str, uuid.UUID] = {}
    placed = row.placed_at
    if row.codes:
        # The codes the batch loaded already (orders/batch.py), the others asked for.
        by_upper = {}
        for upper in {c.upper() for c in row.codes}:
            known = batch.code(session, row.tenant_id, upper)
            if known is not batch.UNKNOWN:
                by_upper[upper] = known
        missing = [c.upper() for c in row.codes if c.upper() not in by_upper]
        if missing:
            found = (await session.execute(_CODES, {"codes": missing})).scalars()
            by_upper.update({code.code.upper(): code for code in found})
        for position, typed in enumerate(row.codes):
            code = by_upper.get(typed.upper())
            if code is None:
                continue
            dead = None
            if code.revoked_at is not None and code.revoked_at <= placed:
                dead = f"code revoked on {code.revoked_at.date().isoformat()}"
            elif code.expires_at is not None and code.expires_at <= placed:
                dead = f"code expired on {code.expires_at.date().isoformat()}"
            elif not admitted and code.usage_limit is not None and code.uses >= code.usage_limit:
                dead = f"its usage limit of {code.usage_limit} orders was reached"
            touches.append(Touch("code", str(code.creator_id), _creator_name(code.creator_id), str(code.campaign_id),
                                 placed, typed, dead=dead, position=position))
            code_ids[typed] = code.id
    click_ids = [u for u in (_as_uuid(c) for c in row.click_ids) if u is not None]
    if click_ids:
        found = (await session.execute(_CLICKS, {"ids": click_ids})).all()
        by_id = {click.id: (click, link) for click, link in found}
        for position, click_id in enumerate(click_ids):
            if click_id not in by_id:
                continue
            click, link = by_id[click_id]
            dead = None
            if link.revoked_at is not None and link.revoked_at <= click.clicked_at:
                dead = f"link revoked on {link.revoked_at.date().isoformat()}"
            flagged = f"a flagged click ({click.flag_reason or 'bot'})" if click.flagged else None
            if click.holdout_group == "control":
                flagged = "a click by a visitor held out by an audience holdout (the control group)"
            touches.append(Touch("click", str(click.creator_id), _creator_name(click.creator_id), str(click.campaign_id),
                                 click.clicked_at, link.slug, window_days=link.window_days,
                                 flagged=flagged,
                                 dead=dead, position=position))
    return await _enrolled_only(session, touches), code_ids


async def _enrolled_only(session: AsyncSession, touches: list[Touch]) -> list[Touch]:
    """The touches, each one whose creator is no longer enrolled in its campaign marked dead: a
    code or a click made while they were must not credit them afterwards (an order placed
    before the unenrolment but delivered after it, a click made before its link was revoked).
    Asked once per (campaign, creator) in a batch's transaction."""
    known = transaction_memo(session, "attribution.enrolled")
    def pair(t: Touch) -> tuple[uuid.UUID, uuid.UUID] | None:
        return (uuid.UUID(t.campaign_id), uuid.UUID(t.creator_id)) if t.dead is None and t.campaign_id else None

    missing = {p for p in map(pair, touches) if p is not None} - known.keys()
    if missing:
        found = set((await session.execute(_ENROLLED, {"campaigns": list({c for c, _ in missing}),
                                                        "creators": list({c for _, c in missing})})).all())
        for each in missing:
            known[each] = each in found
    return [dataclasses.replace(t, dead="the creator is no longer enrolled in the campaign")
            if (p := pair(t)) is not None and not known[p] else t for t in touches]


async def policy_for(session: AsyncSession, placed_at: datetime,
                     touches: list[Touch]) -> tuple[Policy, dict, str | None]:
    """The attribution settings that decide among the order's touches — precedence, model and the
    model's parameters: those of the campaign its qualifying touches belong to. Touches of
    campaigns set differently are decided by the default (codes take precedence, last touch), and
    the explanation says so."""
    campaign_ids = {uuid.UUID(t.campaign_id) for t in qualifying(placed_at, touches) if t.campaign_id}
    if not campaign_ids:
        return Policy(), {}, None
    known = transaction_memo(session, "attribution.campaign_policies")
    missing = campaign_ids - known.keys()
    if missing:
        for campaign_id, *setting in (await session.execute(
                select(Campaign.id, Campaign.attribution_precedence, Campaign.attribution_model,
                       Campaign.attribution_params).where(Campaign.id.in_(missing)))).all():
            known[campaign_id] = tuple(setting)
    found = [known[c] for c in campaign_ids if c in known]
    settings = {(p, m, json.dumps(a or {}, sort_keys=True)) for p, m, a in found}
    if len(settings) <= 1:
        [(precedence, model, params)] = settings or [("code", "last_touch", "{}")]
        return Policy(precedence=precedence, model=model), json.loads(params), None
    return Policy(), {}, ("The touches belong to campaigns with different attribution settings, so the default "
                          "decided: codes take precedence, then the last touch.")
