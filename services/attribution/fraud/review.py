"""An operator's decision on an order the fraud rules held (fraud/service.py): approved, its
commission follows the normal approval path (approved once its hold ends, then paid); rejected,
all of its commission is reversed by an appended clawback (a claim `fraud-review:<id>`, as a
cancellation is), so the ledger stays append-only and its totals exact. The decision is recorded
once, with who took it, when and why; the same decision again changes nothing, the other one is
refused."""

import uuid
from datetime import datetime
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.crediting import service as crediting, settlement, totals
from services.attribution.crediting.models import OrderCredit
from services.attribution.fraud.models import APPROVED, HELD, REJECTED, FraudReview
from services.attribution.ledger import service as ledger
from services.attribution.ledger.models import LedgerEntry
from services.attribution.orders.models import PartnerOrder
from shared.errors import Conflict, NotFound

DECISIONS = {"approve": APPROVED, "reject": REJECTED}


async def _published(session: AsyncSession, review: FraudReview, entries: list[LedgerEntry], currency: str) -> None:
    """As a cancellation does: one `ConversionReversed` per creator whose commission the rejection
    took back (each creator of a split order, with its share), and their sales records due."""
    row = await session.get(PartnerOrder, review.order_ref)
    decision = (await session.execute(
        select(OrderCredit).where(OrderCredit.order_ref == review.order_ref))).scalar_one_or_none()
    taken: dict[uuid.UUID, int] = {review.creator_id: 0}
    for entry in entries:
        taken[entry.creator_id] = taken.get(entry.creator_id, 0) + entry.amount
    shares = {}
    if row is not None:
        _, latest = await settlement.order_shares(session, row)
        shares = {p.creator_id: Fraction(p.share) for p in latest}
    for creator_id in sorted(taken):
        if row is not None and decision is not None and taken[creator_id]:
            await crediting.conversion(session, row, decision, "ConversionReversed", taken[creator_id],
                                       creator_id=creator_id, share=shares.get(creator_id))
        await totals.performance_due(session, creator_id, currency)


async def decide(session: AsyncSession, review_id: uuid.UUID, decision: str, note: str, who: str,
                 now: datetime) -> FraudReview:
    """An operator's decision on a held order: approve (its commission follows the normal path) or
    reject (its commission is reversed by an appended clawback). The same decision again changes
    nothing; the other one is a Conflict."""
    status = DECISIONS[decision]
    review = (await session.execute(
        select(FraudReview).where(FraudReview.id == review_id).with_for_update())).scalar_one_or_none()
    if review is None:
        raise NotFound(f"fraud review {review_id} does not exist")
    if review.status == status:
        return review
    if review.status != HELD:
        raise Conflict([{"field": "body.decision", "reason": f"this review was already decided: {review.status} by "
                         f"{review.decided_by} on {review.decided_at.isoformat()}; a decision is final"}])
    review.status, review.decided_by, review.decided_at, review.note = status, who, now, note
    if status == REJECTED:
        # The currency of the order's commission as the ledger holds it: what a clawback must be in.
        currency = (await session.execute(
            select(LedgerEntry.currency).where(LedgerEntry.source == review.source, LedgerEntry.order_id == review.order_id,
                                               LedgerEntry.kind == "commission").limit(1))).scalar_one_or_none()
        if currency is not None:
            reversed_ = await ledger.claw_back(
                session, source=review.source, order_id=review.order_id, refund_id=f"fraud-review:{review.id}",
                currency=currency, amount=None,
                reason=f"fraud review {review.id} rejected by {who} on {now.date().isoformat()}: {note}")
            await _published(session, review, reversed_, currency)
    await session.flush()
    return review
