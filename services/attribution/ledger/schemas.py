import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.money import Currency

State = Literal["pending", "approved", "paid"]
Kind = Literal["commission", "clawback"]


class LedgerEntryRead(BaseModel):
    id: uuid.UUID
    kind: Kind
    creator_id: uuid.UUID
    campaign_id: uuid.UUID
    currency: str = Field(description="ISO 4217 code.")
    amount: int = Field(description="Minor units of `currency`: commissions positive, clawbacks negative.")
    source: str = Field(description="Where the order came from.")
    order_id: str
    line_key: str | None = Field(description="A commission's line or rule within its order.")
    refund_id: str | None = Field(description="A clawback's refund or cancellation id.")
    reverses_entry_id: uuid.UUID | None = Field(description="The commission entry a clawback takes from.")
    reason: str = Field(description="Why the entry exists, in plain language.")
    state: State
    created_at: datetime
    hold_until: datetime = Field(description="The end of the holding period; approved after it.")
    approved_at: datetime | None
    paid_at: datetime | None
    payout_id: uuid.UUID | None

    @classmethod
    def of(cls, e) -> "LedgerEntryRead":
        return cls(
            id=e.id, kind=e.kind, creator_id=e.creator_id, campaign_id=e.campaign_id, currency=e.currency,
            amount=e.amount, source=e.source, order_id=e.order_id, line_key=e.line_key, refund_id=e.refund_id,
            reverses_entry_id=e.reverses_entry_id, reason=e.reason, state=e.state, created_at=e.created_at,
            hold_until=e.hold_until, approved_at=e.approved_at, paid_at=e.paid_at, payout_id=e.payout_id,
        )


class PayoutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    creator_id: uuid.UUID = Field(description="The creator to pay.")
    currency: Currency


class PayoutRead(BaseModel):
    id: uuid.UUID
    creator_id: uuid.UUID
    currency: str = Field(description="ISO 4217 code.")
    amount: int = Field(description="The net paid, in minor units of `currency` (always > 0).")
    commission_total: int = Field(description="The batch's commission entries, minor units.")
    clawback_total: int = Field(description="The batch's clawback entries (zero or negative), minor units.")
    entry_count: int
    created_at: datetime

    @classmethod
    def of(cls, p) -> "PayoutRead":
        return cls(
            id=p.id, creator_id=p.creator_id, currency=p.currency, amount=p.amount,
            commission_total=p.commission_total, clawback_total=p.clawback_total, entry_count=p.entry_count,
            created_at=p.created_at,
        )


class BalanceRead(BaseModel):
    creator_id: uuid.UUID
    currency: str = Field(description="ISO 4217 code; amounts of different currencies are never added.")
    pending: int = Field(description="Net of entries still in their holding period, minor units.")
    approved: int = Field(description="Net of approved, unpaid entries when positive: what the next payout pays.")
    owed: int = Field(
        description="Net of approved, unpaid entries when negative, as a positive amount: clawbacks after "
        "payout that the creator owes; the next payout deducts it."
    )
    paid: int = Field(description="Net of paid entries: the sum of this creator's payouts in the currency.")
    entry_count: int

    @classmethod
    def of(cls, row) -> "BalanceRead":
        approved = int(row.approved)
        return cls(
            creator_id=row.creator_id, currency=row.currency, pending=int(row.pending), approved=max(approved, 0),
            owed=max(-approved, 0), paid=int(row.paid), entry_count=row.entry_count,
        )


class ClaimRead(BaseModel):
    """A refund or cancellation as received, and how much of it the ledger has applied."""

    id: uuid.UUID
    source: str
    order_id: str
    refund_id: str = Field(description="The refund's or cancellation's id at the source.")
    currency: str = Field(description="ISO 4217 code.")
    amount: int | None = Field(
        description="Commission asked back, minor units; null for a cancellation (all of the order's commission)."
    )
    clawed_back: int = Field(description="What its clawback entries have taken so far, minor units (>= 0).")
    outstanding: int | None = Field(
        description="Asked but not taken (its commission has not arrived, or the cap): applied if more commission "
        "for the order is recorded; null for a cancellation."
    )
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, claim, clawed_back: int) -> "ClaimRead":
        return cls(
            id=claim.id, source=claim.source, order_id=claim.order_id, refund_id=claim.refund_id,
            currency=claim.currency, amount=claim.amount, clawed_back=clawed_back,
            outstanding=None if claim.amount is None else claim.amount - clawed_back, reason=claim.reason,
            created_at=claim.created_at,
        )
