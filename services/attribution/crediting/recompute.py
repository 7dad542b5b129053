"""Re-crediting a campaign's orders under its model now, without rewriting anything.

An order's credit decision and its ledger entries are never edited. A re-computation gives each
credited order of the campaign (not cancelled) its shares under the campaign's model and
parameters now — over the same candidate touches crediting saw, and for the data-driven models
one fit over the campaign's paths up to now — and, when they differ from the shares in force,
records them as the order's next revision (`credit_shares`) and moves the money in the ledger by
**adjustments**: each creator should now hold exactly its part of the order's commission left
after refunds (`split_minor` of the ledger's net for the order); a creator owed more gets a new
commission line `r<revision>:<creator>`, a creator owed less gives it back through a clawback
claim `limelight-recompute:r<revision>|<creator>` on its own lines. The parts still add up to the order's
net commission to the minor unit. Running it again with nothing changed writes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.campaign.models import Campaign
from services.attribution.crediting import split as splitting
from services.attribution.crediting.credit import WHOLE_ORDER_MODELS, Policy, candidates, credit
from services.attribution.crediting.models import CreditShare, OrderCredit
from services.attribution.crediting.service import ledger_source
from services.attribution.crediting.touches import touches_of
from services.attribution.ledger import service as ledger
from services.attribution.ledger.models import LedgerEntry
from services.attribution.models import spec, split_minor
from services.attribution.orders.models import PartnerOrder
from services.attribution.orders.reading import RESERVED_REFUND_PREFIX
from shared.db import utcnow
from shared.errors import NotFound

MAX_ORDERS = 2000


@dataclass
class Outcome:
    model: str
    orders_examined: int
    orders_adjusted: int
    adjustments: int
    moved_minor: dict[str, int]  # per currency: the commission moved between creators (sum of increases)
    next_after: str | None  # the last order examined, when more are left (call again with it)


async def _net_by_creator(session: AsyncSession, source: str, order_id: str) -> tuple[dict[uuid.UUID, int], dict]:
    found = (await session.execute(
        select(LedgerEntry.creator_id, func.sum(LedgerEntry.amount), func.min(LedgerEntry.hold_until))
        .where(LedgerEntry.source == source, LedgerEntry.order_id == order_id)
        .group_by(LedgerEntry.creator_id))).all()
    return {c: int(a) for c, a, _ in found}, {c: h for c, _, h in found}


async def recompute(session: AsyncSession, campaign_id: uuid.UUID, *, after: uuid.UUID | None = None,
                    limit: int = MAX_ORDERS) -> Outcome:
    campaign = (await session.execute(select(Campaign).where(Campaign.id == campaign_id)
                                      .with_for_update(key_share=True))).scalar_one_or_none()
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    splitting.forget_fits()
    query = (select(OrderCredit, PartnerOrder).join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
             .where(OrderCredit.campaign_id == campaign_id, OrderCredit.outcome == "credited",
                    OrderCredit.commission_minor > 0, PartnerOrder.state != "cancelled")
             .order_by(OrderCredit.order_ref).limit(limit + 1))
    if after is not None:
        query = query.where(OrderCredit.order_ref > after)
    found = (await session.execute(query)).all()
    more = len(found) > limit
    found = found[:limit]
    policy = Policy(precedence=campaign.attribution_precedence, model=campaign.attribution_model)
    outcome = Outcome(campaign.attribution_model, 0, 0, 0, defaultdict(int), None)
    now = utcnow()
    for decision, row in found:
        outcome.orders_examined += 1
        if await _recredit(session, campaign, policy, decision, row, now, outcome):
            outcome.orders_adjusted += 1
    outcome.moved_minor = dict(outcome.moved_minor)
    outcome.next_after = str(found[-1][0].order_ref) if more and found else None
    return outcome


async def _recredit(session: AsyncSession, campaign: Campaign, policy: Policy, decision: OrderCredit, row: PartnerOrder,
                    now: datetime, outcome: Outcome) -> bool:
    # The order's lock, as the consumer's settle takes it: a refund or cancellation of this order
    # waits until the new shares and adjustments are committed (and then splits by them), and
    # this re-computation reads the ledger after any that came first.
    row = (await session.execute(select(PartnerOrder).where(PartnerOrder.id == row.id)
                                 .with_for_update().execution_options(populate_existing=True))).scalar_one()
    if row.state == "cancelled":
        return False
    touches, _ = await touches_of(session, row, admitted=True)
    path = [t for t in candidates(decision.placed_at or row.placed_at, touches, policy)
            if t.campaign_id == str(campaign.id)]
    lead = credit(decision.placed_at or row.placed_at, touches, policy).winner
    if not path or lead is None:
        return False  # the order's touches of this campaign no longer qualify: its credit stays as it is
    if policy.model in WHOLE_ORDER_MODELS:
        version = spec(policy.model).version
        new = splitting.Split(policy.model, version, {}, {lead.creator_id: Fraction(1)},
                              f"{version}: the whole order to one touch")
        if lead.campaign_id != str(campaign.id):
            return False
    else:
        new = await splitting.split(session, tenant_id=row.tenant_id, campaign_id=campaign.id, currency=row.currency,
                                    model=policy.model, params=campaign.attribution_params or {}, path=path,
                                    placed_at=decision.placed_at or row.placed_at, fit_before=now)
    kept = list((await session.execute(select(CreditShare).where(CreditShare.order_ref == row.id)
                                        .order_by(CreditShare.revision))).scalars())
    revision = kept[-1].revision if kept else 1
    in_force = ({str(s.creator_id): Fraction(s.share) for s in kept if s.revision == revision} if kept
                else {str(decision.creator_id): Fraction(1)})
    if in_force == new.shares:
        return False
    source = ledger_source(row)
    net, holds = await _net_by_creator(session, source, row.order_id)
    total = sum(net.values())
    target = split_minor(total, new.shares) if total > 0 else {}
    revision += 1
    session.add_all([CreditShare(
        id=uuid.uuid4(), order_ref=row.id, revision=revision, creator_id=uuid.UUID(c), campaign_id=campaign.id,
        share=str(new.shares[c]), commission_minor=target.get(c, 0), line_key=f"r{revision}:{c}", model=new.model,
        model_version=new.version, params=new.params, basis=f"re-computed: {new.basis}",
    ) for c in sorted(new.shares)])
    await session.flush()
    hold = min(holds.values()) if holds else (decision.placed_at or row.placed_at)
    currency = decision.currency or row.currency
    for c in sorted(set(target) | {str(k) for k in net}):
        creator = uuid.UUID(c)
        delta = target.get(c, 0) - net.get(creator, 0)
        share_now = new.shares.get(c, Fraction(0))
        reason = (f"re-computed under {new.version} (revision {revision}): this creator's share is now "
                  f"{share_now} of the order's net commission {total}, {target.get(c, 0)} minor units")
        if delta > 0:
            await ledger.record_commission(
                session, source=source, order_id=row.order_id, line_key=f"r{revision}:{c}", creator_id=creator,
                campaign_id=campaign.id, currency=currency, amount=delta, hold_until=hold, reason=reason)
            outcome.moved_minor[currency] += delta
            outcome.adjustments += 1
        elif delta < 0:
            await ledger.claw_back(session, source=source, order_id=row.order_id, refund_id=f"{RESERVED_REFUND_PREFIX}recompute:r{revision}|{c}",
                                   currency=currency, amount=-delta, creator_id=creator, reason=reason)
            outcome.adjustments += 1
    return True
