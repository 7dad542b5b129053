"""Fraud settings (a tenant's thresholds), creators' own customer keys (for self-referral) and
reviews: a credited order some rule fired on, its commission held until an operator decides.
Tenant-private (shared.tenancy)."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned

HELD, APPROVED, REJECTED = "held", "approved", "rejected"


class FraudSettings(TenantOwned, Base):
    __tablename__ = "fraud_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, comment="The tenant that owns the row; filtered on by shared.tenancy.")
    thresholds: Mapped[dict] = mapped_column(JSONB, comment="Every threshold of fraud/rules.py Thresholds, as set.")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CreatorCustomerKey(TenantOwned, Base):
    """A customer key (the orders' keyed hash) the brand registered as the creator's own: an order
    by it credited to that creator is a self-referral. Never the e-mail or the customer id."""

    __tablename__ = "creator_customer_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "creator_id", "customer_key"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    customer_key: Mapped[str] = mapped_column(String(64), comment="Keyed hash, as orders.customer_key.")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FraudReview(TenantOwned, Base):
    """A credited order the rules flagged: its findings, and while `held` its commission entries are
    never approved nor paid (ledger/service.py). The decision is recorded once: who, when, why."""

    __tablename__ = "fraud_reviews"
    __table_args__ = (
        UniqueConstraint("order_ref"),
        CheckConstraint("status IN ('held', 'approved', 'rejected')", name="status_known"),
        CheckConstraint(
            "(status = 'held' AND decided_at IS NULL AND decided_by IS NULL) OR "
            "(status <> 'held' AND decided_at IS NOT NULL AND decided_by IS NOT NULL)", name="decision_shape"),
        Index("ix_attribution_fraud_reviews_tenant_id_status_created_at", "tenant_id", "status", "created_at", "id"),
        # The ledger's approval skips the entries of held orders: looked up by the entry's order.
        Index("ix_attribution_fraud_reviews_held_order", "tenant_id", "source", "order_id",
              postgresql_where="status = 'held'"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    order_ref: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), comment="attribution.orders.id")
    source: Mapped[str] = mapped_column(String(100), comment="The ledger's source of the order.")
    order_id: Mapped[str] = mapped_column(String(255), comment="The partner's order id.")
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    findings: Mapped[list] = mapped_column(JSONB, comment="The rules that fired: rule, reason, evidence.")
    thresholds: Mapped[dict] = mapped_column(JSONB, comment="The thresholds the order was judged by.")
    status: Mapped[str] = mapped_column(String(10), server_default="held")
    decided_by: Mapped[str | None] = mapped_column(String(255), comment="The identity's subject that decided.")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
