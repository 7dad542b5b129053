"""The commission ledger: entries (append-only; their state only moves forward), the clawback
claims refunds and cancellations leave before or after their commission arrives, and payout
batches. Private to the tenant (shared.tenancy). The database refuses changes to what was
written (migration 0008's triggers); see docs/decisions/0031-commission-ledger.md."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned

KINDS = ("commission", "clawback")
STATES = ("pending", "approved", "paid")


class Payout(TenantOwned, Base):
    """A batch paid to one creator in one currency: the net of the approved entries it took."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("entry_count > 0", name="entry_count_positive"),
        Index("ix_attribution_payouts_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    currency: Mapped[str] = mapped_column(String(3), comment="ISO 4217 code.")
    amount: Mapped[int] = mapped_column(BigInteger, comment="The net paid, in minor units of currency.")
    commission_total: Mapped[int] = mapped_column(BigInteger, comment="The batch's commission entries, minor units.")
    clawback_total: Mapped[int] = mapped_column(BigInteger, comment="The batch's clawback entries (<= 0), minor units.")
    entry_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ClawbackClaim(TenantOwned, Base):
    """A refund or cancellation of an order, as received: what it asks to claw back. Kept even
    when the order's commission has not arrived yet; the ledger's clawback entries apply it."""

    __tablename__ = "clawback_claims"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "order_id", "refund_id"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # Arrival order: claims of one order are applied first come, first served.
    arrival: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    source: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[str] = mapped_column(String(255))
    refund_id: Mapped[str] = mapped_column(String(255), comment="The refund's or cancellation's id at the source.")
    currency: Mapped[str] = mapped_column(String(3), comment="ISO 4217 code.")
    amount: Mapped[int | None] = mapped_column(
        BigInteger, comment="Commission to claw back, minor units; NULL: all of the order's (a cancellation)."
    )
    creator_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True),
        comment="Only this creator's commission lines of the order (a split order); NULL: any, in line-key order.")
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LedgerEntry(TenantOwned, Base):
    __tablename__ = "ledger_entries"
    # The INSERT returns created_at: an entry is complete once written, with no read after it.
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        # One commission per order line/rule key; one clawback per (claim, commission entry).
        UniqueConstraint("tenant_id", "source", "order_id", "line_key"),
        UniqueConstraint("claim_id", "reverses_entry_id"),
        CheckConstraint("kind IN ('commission', 'clawback')", name="kind_known"),
        CheckConstraint("state IN ('pending', 'approved', 'paid')", name="state_known"),
        CheckConstraint(
            "(kind = 'commission' AND amount > 0 AND line_key IS NOT NULL AND claim_id IS NULL) OR "
            "(kind = 'clawback' AND amount < 0 AND line_key IS NULL AND claim_id IS NOT NULL "
            "AND reverses_entry_id IS NOT NULL AND refund_id IS NOT NULL)",
            name="kind_shape",
        ),
        CheckConstraint(
            "(state = 'pending' AND approved_at IS NULL AND paid_at IS NULL AND payout_id IS NULL) OR "
            "(state = 'approved' AND approved_at IS NOT NULL AND paid_at IS NULL AND payout_id IS NULL) OR "
            "(state = 'paid' AND approved_at IS NOT NULL AND paid_at IS NOT NULL AND payout_id IS NOT NULL)",
            name="state_shape",
        ),
        Index("ix_attribution_ledger_entries_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        Index("ix_attribution_ledger_entries_tenant_id_source_order_id", "tenant_id", "source", "order_id"),
        Index("ix_attribution_ledger_entries_creator_currency_state", "tenant_id", "creator_id", "currency", "state"),
        # A creator's net commission over every tenant, for their sales record (crediting/performance.py).
        Index("ix_attribution_ledger_entries_creator_id_currency", "creator_id", "currency"),
        # The campaign report (reports/repository.py): a campaign's entries by creator.
        Index("ix_attribution_ledger_entries_campaign_creator_currency", "tenant_id", "campaign_id", "creator_id", "currency"),
        # approve_due: the pending entries whose hold has ended, across tenants.
        Index(
            "ix_attribution_ledger_entries_pending_hold_until", "hold_until", postgresql_where="state = 'pending'"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20))
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    currency: Mapped[str] = mapped_column(String(3), comment="ISO 4217 code.")
    amount: Mapped[int] = mapped_column(BigInteger, comment="Minor units: commissions > 0, clawbacks < 0.")
    source: Mapped[str] = mapped_column(String(100), comment="Where the order came from (a webhook source).")
    order_id: Mapped[str] = mapped_column(String(255))
    line_key: Mapped[str | None] = mapped_column(String(255), comment="A commission's key within its order.")
    refund_id: Mapped[str | None] = mapped_column(String(255), comment="A clawback's refund or cancellation id.")
    claim_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clawback_claims.id"))
    reverses_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_entries.id"))
    reason: Mapped[str] = mapped_column(Text)
    # clock_timestamp(), not now() (the transaction's start): a commission and the clawbacks it
    # settles in the same transaction list in the order they were written.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())
    hold_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), server_default="pending")
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payout_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payouts.id"))
