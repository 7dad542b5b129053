"""The ledger's side of a credited order, settled again after every message about it: the
commission when it is first credited (one line per creator of a split), a clawback per refund
(split by the shares in force when it arrived) and one on cancellation, each with its
`attribution.conversion.v1` event. The ledger's natural keys make a replay change nothing."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.crediting.credit import WHOLE_ORDER_MODELS
from services.attribution.crediting.models import CreditShare
from services.attribution.crediting.service import CANCELLED, conversion, decide, ledger_source, percent
from services.attribution.crediting.totals import follow_basis, performance_due
from services.attribution.fraud.models import REJECTED, FraudReview
from services.attribution.ledger import service as ledger
from services.attribution.ledger.models import ClawbackClaim, LedgerEntry
from services.attribution.models import split_minor
from services.attribution.orders.model import Order, Refund
from services.attribution.orders.models import PartnerOrder
from services.attribution.orders.reading import RESERVED_REFUND_PREFIX
from services.attribution.rules.compute import compute
from services.attribution.rules.models import CommissionRule


async def settle(session: AsyncSession, row: PartnerOrder, order: Order, refunds: list[Refund], *,
                 fresh: bool = False, settled: frozenset[str] = frozenset(),
                 edit: tuple[Order, str] | None = None) -> None:
    """The order's ledger entries from its credit decision, its edits, its refunds and its
    cancellation. `fresh`: the order was inserted by this transaction (orders/service.py);
    `settled`: the ids of the refunds an earlier settlement applied (the caller marks the others
    settled after this); `edit`: the order as it stood before this delivery changed it, and the
    delivery's id."""
    decision, new = await decide(session, row, order, fresh=fresh)
    if decision.outcome == "credited":
        await follow_basis(session, row, decision)
    if decision.outcome != "credited" or decision.commission_minor <= 0 or decision.rule_id is None:
        return  # nothing credited, so nothing to settle: an edit cannot raise it (see `target` below)
    source = ledger_source(row)
    version = await session.get(CommissionRule, decision.rule_id)
    terms = version.terms()
    hold_until = (decision.placed_at or row.placed_at) + timedelta(days=terms.holding_days)
    reason = f"{decision.explanation} {decision.commission_explanation}".strip()[:2000]
    # A decision taken now for a whole-order model has no shares (none are written above).
    whole = new and decision.attribution_model in WHOLE_ORDER_MODELS
    first, latest = ([], []) if whole else await order_shares(session, row)
    if not first:
        await ledger.record_commission(
            session, source=source, order_id=row.order_id, line_key="order", creator_id=decision.creator_id,
            campaign_id=decision.campaign_id, currency=decision.currency, amount=decision.commission_minor,
            hold_until=hold_until, reason=reason, new_order=fresh)
    for part in first:
        if part.commission_minor > 0:
            share_text = f"{percent(Fraction(part.share))} of the order's commission under {part.model_version}. "
            await ledger.record_commission(
                session, source=source, order_id=row.order_id, line_key=part.line_key, creator_id=part.creator_id,
                campaign_id=part.campaign_id, currency=decision.currency, amount=part.commission_minor,
                hold_until=hold_until, reason=(share_text + reason)[:2000], new_order=fresh)
    inputs = dict(revenue_in_window=decision.revenue_in_window_minor, new_customer=decision.new_customer,
                  earned_in_period=decision.earned_in_period_minor)
    changed = False

    def target(applied: list[Refund], of: Order = order) -> int:
        """What the order earns now: its lines in force less `applied`, under the rule and inputs
        it was credited with, never more than it was credited (the creator's cap and totals counted
        that figure, and `attribution.conversion.v1` announced it)."""
        return min(decision.commission_minor, compute(terms, of, applied, **inputs).amount_minor)

    # A refund with a claim of its own was applied too: by a replica still running the code
    # before migration 0027 during a deploy, which does not mark refunds settled.
    if refunds and len(settled) < len(refunds):
        settled = settled | await _claimed_refunds(session, source, row.order_id, refunds)
    if edit is not None and not new:
        # The partner changed the order's lines after it was credited (an order edit): the
        # commission follows them, measured with the refunds settled so far, up to what was
        # credited; a fall is clawed back, a rise back toward the credited figure is a commission
        # line of its own. Not after the order was cancelled or its fraud review rejected (their
        # claims took all of it).
        before_edit, delivery_id = edit
        applied = [r for r in refunds if r.refund_id in settled]
        was, now = target(applied, before_edit), target(applied)
        if was != now and not await _claimed(session, source, row.order_id, CANCELLED) \
                and not await _rejected(session, row):
            key = _claim_base(f"{RESERVED_REFUND_PREFIX}edit:{delivery_id}")
            text = f"order edited: the commission goes from {was} to {now} minor units"
            await _move(session, row, decision, latest, source, hold_until, key=key, own_key=key, before=was,
                        after=now, text=text)
            changed = True
    # Before any refund, the order earns what its lines in force earn: the decision's figure (the
    # same computation on the same lines) unless an edit moved it.
    unrefunded = target([]) if refunds else decision.commission_minor
    for refund, before, after in refund_falls(target, refunds, settled, unrefunded):
        if before - after <= 0:
            continue  # settled all the same: the caller marks every refund counted
        text = f"refund {refund.refund_id}: the commission falls from {before} to {after} minor units"
        changed = True
        await _move(session, row, decision, latest, source, hold_until, key=_claim_base(refund.refund_id),
                    own_key=refund.refund_id, before=before, after=after, text=text)
    if row.state == "cancelled" and not await _claimed(session, source, row.order_id, CANCELLED):
        before = target(refunds)
        await ledger.claw_back(session, source=source, order_id=row.order_id, refund_id=CANCELLED, currency=decision.currency,
                               amount=None, reason=f"order {row.order_id} cancelled")
        if not latest:
            await conversion(session, row, decision, "ConversionReversed", -before)
        else:
            shares = {str(p.creator_id): Fraction(p.share) for p in latest}
            for c, left in split_minor(before, shares).items():
                await conversion(session, row, decision, "ConversionReversed", -left, creator_id=uuid.UUID(c),
                                  share=shares[c])
        changed = True
    if changed:
        await performance_due(session, decision.creator_id, row.currency)


async def _move(session: AsyncSession, row: PartnerOrder, decision, latest: list[CreditShare], source: str,
                hold_until, *, key: str, own_key: str, before: int, after: int, text: str) -> None:
    """The ledger moved from an order's commission `before` to `after`: a refund's or an edit's
    clawback (claim `own_key`), or an edit's rise back toward the credited figure (line
    `own_key`); for a split order, each creator to exactly its share of `after`, with `key` in
    the names of the parts."""
    where = dict(session=session, source=source, order_id=row.order_id, currency=decision.currency)
    if not latest:
        if after < before:
            await ledger.claw_back(**where, refund_id=own_key, amount=before - after, reason=text)
        else:
            await ledger.record_commission(**where, line_key=own_key, creator_id=decision.creator_id,
                                           campaign_id=decision.campaign_id, amount=after - before,
                                           hold_until=hold_until, reason=text)
        # Every move after the credit is a `ConversionReversed`, its amount negative when the
        # commission falls (`ConversionAttributed` is the credit itself, once per order and creator).
        await conversion(session, row, decision, "ConversionReversed", after - before)
        return
    # Each creator ends with exactly its share of what is left (split_minor of the commission
    # after the move, by the shares in force), from what it holds in the ledger now: it gives back
    # the difference, or is owed more. Largest remainder is not monotone, so rounding may owe a
    # creator a cent back after a fall: a commission line says so. What is given back less what is
    # added is the commission's move, to the minor unit.
    shares = {str(p.creator_id): Fraction(p.share) for p in latest}
    held_by = await _held_by_creator(session, source, row.order_id)
    target = split_minor(after, shares)
    for c in sorted(set(shares) | {str(k) for k in held_by}):
        creator = uuid.UUID(c)
        owed = held_by.get(creator, 0) - target.get(c, 0)
        share_text = percent(shares.get(c, Fraction(0)))
        if owed > 0:
            await ledger.claw_back(
                **where, refund_id=own_key if creator == decision.creator_id else f"{key}|{c}",
                amount=owed, creator_id=creator, reason=f"{text}; this creator's {share_text} part falls to {target.get(c, 0)}")
        elif owed < 0:
            await ledger.record_commission(
                **where, line_key=f"{key}+{c}", creator_id=creator, campaign_id=decision.campaign_id,
                amount=-owed, hold_until=hold_until,
                reason=f"{text}; this creator's {share_text} part of it is {target.get(c, 0)}: {-owed} minor unit(s) more")
        if owed:
            await conversion(session, row, decision, "ConversionReversed", -owed, creator_id=creator,
                             share=shares.get(c, Fraction(0)))


async def _rejected(session: AsyncSession, row: PartnerOrder) -> bool:
    """Whether an operator rejected the order's fraud review: its commission is all taken back."""
    found = await session.execute(select(FraudReview.id).where(FraudReview.order_ref == row.id,
                                                               FraudReview.status == REJECTED))
    return found.first() is not None


def refund_falls(commission_after: Callable[[list[Refund]], int], refunds: list[Refund], settled: frozenset[str],
                 commission: int) -> list[tuple[Refund, int, int]]:
    """(refund, before, after) for each refund not yet settled, in the date order of `refunds`:
    what the order earns after the refunds settled before it (whenever they arrived), and after
    this one too (`commission_after` of a list of refunds). Before the first refund settled the
    order earns `commission`, the decision's figure.

    Each refund not yet settled is measured against every refund settled before it, so the falls
    add up to what all the refunds take, whatever order they arrived in: under basis rules 2 a
    refund's money that no line explains is a share of the basis left, and under a cap a refund
    may take nothing until another one does, so a refund's fall depends on the refunds taken
    before it (docs/decisions/0060). A refund that takes nothing is settled all the same. The
    falls are the computation's, not the ledger's. A change of the order's lines after it was
    credited is settled as an edit before its refunds (`settle`), so each refund's fall is measured
    on the lines in force."""
    applied = set(settled)
    falls = []
    for refund in refunds:
        if refund.refund_id in applied:
            continue
        earlier = [r for r in refunds if r.refund_id in applied]
        before = commission_after(earlier) if earlier else commission
        applied.add(refund.refund_id)
        falls.append((refund, before, commission_after([r for r in refunds if r.refund_id in applied])))
    return falls


def _claim_base(refund_id: str) -> str:
    """The refund's name in the keys of its per-creator claims and lines (`<base>|<creator>`,
    `<base>+<creator>`): the refund id itself, or a digest of it when it is too long to fit the
    ledger's 255 characters with a creator id after it."""
    if len(refund_id) <= 200:
        return refund_id
    return "sha256:" + hashlib.sha256(refund_id.encode()).hexdigest()


async def _held_by_creator(session: AsyncSession, source: str, order_id: str) -> dict[uuid.UUID, int]:
    """What each creator holds of the order's commission now: its commissions less its clawbacks."""
    found = (await session.execute(
        select(LedgerEntry.creator_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.source == source, LedgerEntry.order_id == order_id)
        .group_by(LedgerEntry.creator_id))).all()
    return {creator: int(amount) for creator, amount in found}


async def order_shares(session: AsyncSession, row: PartnerOrder) -> tuple[list[CreditShare], list[CreditShare]]:
    """The order's split when it was credited (revision 1) and the one in force now (its latest
    revision); both empty for an order credited whole."""
    found = list((await session.execute(
        select(CreditShare).where(CreditShare.order_ref == row.id)
        .order_by(CreditShare.revision, CreditShare.creator_id))).scalars())
    if not found:
        return [], []
    top = found[-1].revision
    return [s for s in found if s.revision == 1], [s for s in found if s.revision == top]


async def _claimed_refunds(session: AsyncSession, source: str, order_id: str, refunds: list[Refund]) -> frozenset[str]:
    """The ids of `refunds` with a claim in the ledger: whole, in creators' parts, or a rounding
    line of their own (`<base>|<creator>`, `<base>+<creator>`). Two statements."""
    claims = set((await session.execute(select(ClawbackClaim.refund_id).where(
        ClawbackClaim.source == source, ClawbackClaim.order_id == order_id))).scalars())
    lines = set((await session.execute(select(LedgerEntry.line_key).where(
        LedgerEntry.source == source, LedgerEntry.order_id == order_id, LedgerEntry.line_key.is_not(None)))).scalars())
    parts = {key.rsplit("|", 1)[0] for key in claims if "|" in key} | {key.rsplit("+", 1)[0] for key in lines if "+" in key}
    return frozenset(r.refund_id for r in refunds if r.refund_id in claims or _claim_base(r.refund_id) in parts)


async def _claimed(session: AsyncSession, source: str, order_id: str, refund_id: str) -> bool:
    found = await session.execute(select(ClawbackClaim.id).where(
        ClawbackClaim.source == source, ClawbackClaim.order_id == order_id, ClawbackClaim.refund_id == refund_id))
    return found.first() is not None


async def ledger_entries(session, row: PartnerOrder) -> list[LedgerEntry]:
    return list((await session.execute(
        select(LedgerEntry).where(LedgerEntry.source == ledger_source(row), LedgerEntry.order_id == row.order_id)
        .order_by(LedgerEntry.created_at))).scalars())
