"""The credit decision of an order, taken once when the order is first stored and kept: who
earned it, under which rule version, with which inputs, and why — so recomputing after a refund
uses the same decision and the ledger sees the same figures on every replay."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class OrderCredit(TenantOwned, Base):
    __tablename__ = "order_credits"
    __table_args__ = (
        UniqueConstraint("order_ref", name="uq_order_credits_order_ref"),
        CheckConstraint("outcome IN ('credited', 'unattributed')", name="outcome_known"),
        # The reports (reports/repository.py): a campaign's credited orders by creator, a creator's by campaign.
        Index(
            "ix_attribution_order_credits_tenant_id_campaign_id_creator_id", "tenant_id", "campaign_id", "creator_id",
            postgresql_include=["order_ref"], postgresql_where=text("outcome = 'credited'"),
        ),
        Index(
            "ix_attribution_order_credits_tenant_id_creator_id_campaign_id", "tenant_id", "creator_id", "campaign_id",
            postgresql_include=["order_ref"], postgresql_where=text("outcome = 'credited'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    order_ref: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("orders.id"), comment="attribution.orders.id")
    outcome: Mapped[str] = mapped_column(String(20))
    creator_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    touch_kind: Mapped[str | None] = mapped_column(String(10), comment="code or click")
    touch_label: Mapped[str | None] = mapped_column(String(255), comment="The code as typed, or the link's slug.")
    code_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    explanation: Mapped[str] = mapped_column(Text, comment="Every candidate touch and why it won or lost.")
    rule_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), comment="The rule version in force when placed.")
    revenue_in_window_minor: Mapped[int] = mapped_column(BigInteger, server_default="0")
    new_customer: Mapped[bool] = mapped_column(Boolean, server_default="true")
    earned_in_period_minor: Mapped[int] = mapped_column(BigInteger, server_default="0")
    currency: Mapped[str | None] = mapped_column(String(3))
    commission_minor: Mapped[int] = mapped_column(BigInteger, server_default="0", comment="Before refunds.")
    commission_explanation: Mapped[str] = mapped_column(Text, server_default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
