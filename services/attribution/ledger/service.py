"""The ledger's rules: what the order path calls (`record_commission`, `claw_back`), what the
approval worker calls (`approve_due`) and what a payout request calls (`create_payout`).

Each call is idempotent by a natural key and serialised per order (a transaction-scoped advisory
lock), so replaying deliveries any number of times, in any order, converges on the same ledger:

- a commission is unique per (tenant, source, order id, line key);
- a refund or cancellation is kept as a claim, unique per (tenant, source, order id, refund id),
  and `_settle` turns claims into clawback entries against the order's commission entries: first
  come, first served, never more than what is left of each commission (the cap), each
  (claim, commission entry) pair at most once. A claim that arrives before its commission waits
  and is applied when the commission is recorded.

Nothing here commits; the caller's unit of work does. The session is bound to the tenant
(shared.tenancy): every row read or written is that tenant's.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import String, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.enrolment.models import Enrolment
from services.attribution.fraud.models import HELD, FraudReview
from services.attribution.ledger.models import ClawbackClaim, LedgerEntry, Payout
from services.attribution.orders import batch
from shared import tenancy
from shared.db import transaction_memo
from shared.errors import Conflict, Invalid
from shared.money import MAX_MINOR, MoneyError, exponent, format_amount, totals_by_currency

COMMISSION, CLAWBACK = "commission", "clawback"
PENDING, APPROVED, PAID = "pending", "approved", "paid"
KEY_LENGTH = 255
SOURCE_LENGTH = 100


class LedgerConflict(Conflict):
    """A replay that contradicts what the ledger already holds under the same natural key, or money
    of two currencies for one order: never overwritten, never converted."""

    def __init__(self, field: str, reason: str):
        super().__init__([{"field": field, "reason": reason}])


def _money(field: str, amount: int, currency: str) -> None:
    try:
        exponent(currency)
    except MoneyError as exc:
        raise Invalid("currency", str(exc)) from None
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_MINOR:
        raise Invalid(field, f"an amount is a whole number of minor units, 1 to {MAX_MINOR}")


def _key(field: str, value: str, length: int = KEY_LENGTH) -> None:
    if not isinstance(value, str) or not value or len(value) > length or "\x00" in value:
        raise Invalid(field, f"a non-empty string of at most {length} characters, without NUL")


def _reason(value: str, what: str) -> str:
    """The reason, trimmed; PostgreSQL text cannot hold NUL, which a partner's note might carry."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid("reason", f"say in plain language why {what}")
    return value.strip().replace("\x00", "")


def _shown(amount: int, currency: str) -> str:
    return f"{format_amount(amount, currency)} {currency}"


def _tenant(session: AsyncSession) -> uuid.UUID:
    bound = tenancy.bound_tenant(session)
    if not isinstance(bound, uuid.UUID):
        raise tenancy.TenantNotBound("the ledger is written for one tenant at a time; bind the session to it")
    return bound


# The order path's statements, each built once with bind parameters: building a statement costs
# more CPU than running it (ADR 0057).
_LOCK = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("name", type_=String), 0)))
_ORDER_ENTRIES = tenancy.built_once(
    select(LedgerEntry)
    .where(LedgerEntry.source == bindparam("source"), LedgerEntry.order_id == bindparam("order_id"))
    .order_by(LedgerEntry.kind.desc(), LedgerEntry.line_key, LedgerEntry.created_at, LedgerEntry.id)
)
_ORDER_CLAIMS = tenancy.built_once(
    select(ClawbackClaim)
    .where(ClawbackClaim.source == bindparam("source"), ClawbackClaim.order_id == bindparam("order_id"))
    .order_by(ClawbackClaim.arrival)
)


async def _lock(session: AsyncSession, *parts: object) -> None:
    """A transaction-scoped advisory lock on `parts` (waits for the holder to commit)."""
    await session.execute(_LOCK, {"name": "\x1f".join(str(p) for p in ("limelight.ledger", *parts))})


async def _order_entries(session: AsyncSession, source: str, order_id: str) -> list[LedgerEntry]:
    return list((await session.execute(_ORDER_ENTRIES, {"source": source, "order_id": order_id})).scalars())


async def _order_claims(session: AsyncSession, source: str, order_id: str) -> list[ClawbackClaim]:
    return list((await session.execute(_ORDER_CLAIMS, {"source": source, "order_id": order_id})).scalars())


def _same_currency(currency: str, entries: Iterable[LedgerEntry], claims: Iterable[ClawbackClaim]) -> None:
    held = {e.currency for e in entries} | {c.currency for c in claims}
    if held - {currency}:
        raise LedgerConflict(
            "currency", f"this order's commission is in {', '.join(sorted(held))}; amounts are never converted"
        )


async def record_commission(
    session: AsyncSession,
    *,
    source: str,
    order_id: str,
    line_key: str,
    creator_id: uuid.UUID,
    campaign_id: uuid.UUID,
    currency: str,
    amount: int,
    hold_until: datetime,
    reason: str,
    new_order: bool = False,
) -> LedgerEntry:
    """A pending commission of `amount` minor units (> 0) for one line or rule (`line_key`) of an
    order, approved by `approve_due` once `hold_until` has passed. Recording it again returns the
    entry already there; the same key with other figures is a LedgerConflict. Any claims waiting
    for this order's commission are applied to it.

    `new_order`: the order was first stored by this very transaction (crediting's `fresh`), so the
    ledger can hold nothing of it yet — only the order path writes an order's entries and claims,
    and only once its row exists — and no other transaction can write any before this one ends
    (the row is not visible to them; another delivery of the order waits on its unique key). The
    order's lock and the reads of its entries and claims are then skipped (ADR 0057). This
    transaction's own earlier lines of the order are the caller's: it records each line once."""
    _key("source", source, SOURCE_LENGTH)
    _key("order_id", order_id)
    _key("line_key", line_key)
    _money("amount", amount, currency)
    if hold_until.tzinfo is None:
        raise Invalid("hold_until", "a timezone-aware timestamp")
    reason = _reason(reason, "this commission is owed")
    entries: list[LedgerEntry] = []
    claims: list[ClawbackClaim] = []
    if not new_order:
        await _lock(session, _tenant(session), source, order_id)
        entries = await _order_entries(session, source, order_id)
    same = next((e for e in entries if e.kind == COMMISSION and e.line_key == line_key), None)
    if same is not None:
        sent = (creator_id, campaign_id, currency, amount, hold_until)
        if (same.creator_id, same.campaign_id, same.currency, same.amount, same.hold_until) != sent:
            raise LedgerConflict(
                "line_key", f"{source} order {order_id} already has commission {line_key!r} with other figures"
            )
        return same
    if not new_order:
        claims = await _order_claims(session, source, order_id)
    _same_currency(currency, entries, claims)
    entry = LedgerEntry(
        id=uuid.uuid4(), kind=COMMISSION, creator_id=creator_id, campaign_id=campaign_id, currency=currency,
        amount=amount, source=source, order_id=order_id, line_key=line_key, reason=reason,
        hold_until=hold_until, state=PENDING,
    )
    session.add(entry)
    await batch.flush(session)
    # The creator's enrolment now has money against it: it can no longer be removed, and the
    # campaign's currency is fixed (ADR 0030).
    marked = transaction_memo(session, "attribution.ledger.money_recorded")
    if (campaign_id, creator_id) not in marked:
        # Built per call, with its values, so the ORM keeps a loaded Enrolment in step (it
        # evaluates the WHERE in Python; a bind parameter's value is not there to evaluate).
        await session.execute(
            update(Enrolment)
            .where(Enrolment.campaign_id == campaign_id, Enrolment.creator_id == creator_id,
                   Enrolment.money_recorded.is_(False))
            .values(money_recorded=True)
        )
        marked[(campaign_id, creator_id)] = True
    if claims:  # claims that waited for this order's commission (under the order's lock: no others came)
        await _settle(session, source, order_id)
    return entry


async def claw_back(
    session: AsyncSession,
    *,
    source: str,
    order_id: str,
    refund_id: str,
    currency: str,
    amount: int | None,
    reason: str,
    creator_id: uuid.UUID | None = None,
) -> list[LedgerEntry]:
    """Claw back `amount` minor units of the order's commission for a refund (`amount=None`: all of
    it, for a cancellation), once per `refund_id`. Capped at what is left of the order's
    commission (of `creator_id`'s commission lines only, when given: one creator's part of a
    split order); kept and applied later if the commission has not arrived. The clawback entries
    written for this refund so far (none while its commission is missing)."""
    _key("source", source, SOURCE_LENGTH)
    _key("order_id", order_id)
    _key("refund_id", refund_id)
    if amount is None:
        _money("amount", 1, currency)
    else:
        _money("amount", amount, currency)
    reason = _reason(reason, "this commission is clawed back")
    await _lock(session, _tenant(session), source, order_id)
    claims = await _order_claims(session, source, order_id)
    claim = next((c for c in claims if c.refund_id == refund_id), None)
    if claim is not None:
        if (claim.currency, claim.amount, claim.creator_id) != (currency, amount, creator_id):
            raise LedgerConflict(
                "refund_id", f"{source} order {order_id} already has refund {refund_id!r} with another amount"
            )
    else:
        _same_currency(currency, await _order_entries(session, source, order_id), claims)
        claim = ClawbackClaim(
            id=uuid.uuid4(), source=source, order_id=order_id, refund_id=refund_id, currency=currency,
            amount=amount, reason=reason, creator_id=creator_id,
        )
        session.add(claim)
        await session.flush()
    await _settle(session, source, order_id)
    query = select(LedgerEntry).where(LedgerEntry.claim_id == claim.id).order_by(LedgerEntry.created_at, LedgerEntry.id)
    return list((await session.execute(query)).scalars())


def _clawback_reason(claim: ClawbackClaim, entry: LedgerEntry, take: int, left_after: int | None) -> str:
    what = _shown(take, entry.currency)
    text = f"{claim.reason}: {what} of commission {entry.line_key!r} clawed back"
    if claim.amount is None:
        return text + " (cancellation: all of the order's commission)"
    if left_after:
        asked = _shown(claim.amount, claim.currency)
        text += (
            f"; capped: the refund asks {asked} back and only what was left of this order's commission can be "
            f"taken; {_shown(left_after, claim.currency)} more is taken if more commission for the order is recorded"
        )
    return text


async def _settle(session: AsyncSession, source: str, order_id: str) -> None:
    """Apply the order's claims to its commission entries (under the order's lock): claims in the
    order they arrived, entries in line-key order, each pair once, never past what is left."""
    entries = await _order_entries(session, source, order_id)
    claims = await _order_claims(session, source, order_id)
    if not claims:
        return
    commissions = [e for e in entries if e.kind == COMMISSION]
    left = {e.id: e.amount for e in commissions}
    taken = defaultdict(int)
    done = set()
    for e in entries:
        if e.kind == CLAWBACK:
            left[e.reverses_entry_id] += e.amount
            taken[e.claim_id] -= e.amount
            done.add((e.claim_id, e.reverses_entry_id))
    for claim in claims:
        wanted = None if claim.amount is None else claim.amount - taken[claim.id]
        plan = []
        for commission in commissions:
            if wanted is not None and wanted <= 0:
                break
            if claim.creator_id is not None and commission.creator_id != claim.creator_id:
                continue
            take = left[commission.id] if wanted is None else min(wanted, left[commission.id])
            if take <= 0 or (claim.id, commission.id) in done:
                continue
            left[commission.id] -= take
            taken[claim.id] += take
            if wanted is not None:
                wanted -= take
            plan.append((commission, take))
        for index, (commission, take) in enumerate(plan):
            last = index == len(plan) - 1
            # A clawback follows its commission: pending with it, or approved at once if that one
            # is approved or paid already (a refund after payout: a balance owed from now on, not
            # a negative pending amount until the approval worker's next run).
            approved_at = None if commission.state == PENDING else datetime.now(UTC)
            session.add(
                LedgerEntry(
                    id=uuid.uuid4(), kind=CLAWBACK, creator_id=commission.creator_id,
                    campaign_id=commission.campaign_id, currency=commission.currency, amount=-take, source=source,
                    order_id=order_id, refund_id=claim.refund_id, claim_id=claim.id,
                    reverses_entry_id=commission.id,
                    reason=_clawback_reason(claim, commission, take, wanted if last else None),
                    hold_until=commission.hold_until, state=PENDING if approved_at is None else APPROVED,
                    approved_at=approved_at,
                )
            )
    await session.flush()


APPROVAL_BATCH = 5000

# An entry whose order is held for a fraud review (fraud/service.py) is never approved, so never
# paid, until an operator decides: it stays pending.
_NOT_HELD = ~exists().where(
    FraudReview.tenant_id == LedgerEntry.tenant_id, FraudReview.source == LedgerEntry.source,
    FraudReview.order_id == LedgerEntry.order_id, FraudReview.status == HELD,
)


async def approve_due(session: AsyncSession, now: datetime, *, batch: int = APPROVAL_BATCH) -> int:
    """Approve up to `batch` pending entries whose hold ended at or before `now`; the number
    approved (call again while it equals `batch`). The session's binding decides whose: one
    tenant's, or every tenant's (`across_tenants`, the worker); never those of an order held for a
    fraud review. Entries a payout or another replica has locked are skipped (SKIP LOCKED), never
    waited on: the next run takes them."""
    due = (
        select(LedgerEntry.id)
        .where(LedgerEntry.state == PENDING, LedgerEntry.hold_until <= now, _NOT_HELD)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.id.in_(due))
        .values(state=APPROVED, approved_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


async def _approve_for(session: AsyncSession, now: datetime, creator_id: uuid.UUID, currency: str) -> None:
    """A payout's first step: the creator's entries in `currency` whose hold has ended are approved
    (under the payout's lock, so it never waits for the worker)."""
    await session.execute(
        update(LedgerEntry)
        .where(
            LedgerEntry.creator_id == creator_id, LedgerEntry.currency == currency, LedgerEntry.state == PENDING,
            LedgerEntry.hold_until <= now, _NOT_HELD,
        )
        .values(state=APPROVED, approved_at=now)
        .execution_options(synchronize_session=False)
    )


async def create_payout(session: AsyncSession, creator_id: uuid.UUID, currency: str, now: datetime) -> Payout:
    """Pay `creator_id` the net of its approved, unpaid entries in `currency` (entries due by
    `now` are approved first). A net of zero or less pays nothing: the clawbacks stay approved
    and unpaid, a balance owed that the next batch deducts. Concurrent requests for one creator
    and currency run one after the other, so no entry is ever in two batches."""
    await _lock(session, _tenant(session), "payout", creator_id, currency)
    await _approve_for(session, now, creator_id, currency)
    query = (
        select(LedgerEntry)
        .where(LedgerEntry.creator_id == creator_id, LedgerEntry.currency == currency, LedgerEntry.state == APPROVED)
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
        .with_for_update()
    )
    entries = list((await session.execute(query)).scalars())
    if not entries:
        raise Conflict([{"field": "body.creator_id", "reason": f"this creator has nothing approved to pay in {currency}"}])
    net = totals_by_currency((e.amount, e.currency) for e in entries)[currency]
    if net <= 0:
        raise Conflict([{
            "field": "body.creator_id",
            "reason": f"this creator's approved entries in {currency} net to {_shown(net, currency)}: a balance "
            "owed by the creator, deducted from the next batch; nothing is paid",
        }])
    payout = Payout(
        id=uuid.uuid4(), creator_id=creator_id, currency=currency, amount=net,
        commission_total=sum(e.amount for e in entries if e.amount > 0),
        clawback_total=sum(e.amount for e in entries if e.amount < 0), entry_count=len(entries),
    )
    session.add(payout)
    await session.flush()
    paid = await session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.id.in_([e.id for e in entries]), LedgerEntry.state == APPROVED)
        .values(state=PAID, paid_at=now, payout_id=payout.id)
        .execution_options(synchronize_session=False)
    )
    if paid.rowcount != len(entries):  # the lock makes this impossible; a payout never half-pays
        raise RuntimeError(f"payout {payout.id}: {paid.rowcount} of {len(entries)} entries could be paid")
    await session.refresh(payout)
    return payout
