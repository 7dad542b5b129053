"""Campaigns: what a tenant runs with creators. Private to that tenant (shared.tenancy)."""

import uuid
from datetime import date, datetime
from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class Campaign(TenantOwned, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_on_or_after_start"),
        CheckConstraint("budget_minor >= 0", name="budget_minor_not_negative"),
        CheckConstraint("status IN ('draft', 'active', 'paused', 'ended')", name="status_known"),
        CheckConstraint("attribution_precedence IN ('code', 'link', 'recency')", name="attribution_precedence_known"),
        CheckConstraint(
            "attribution_model IN ('last_touch', 'first_touch', 'linear', 'time_decay', 'position_based', 'markov', 'shapley')",
            name="attribution_model_known",
        ),
        # The tenant's list, oldest first, alone and by status.
        Index("ix_attribution_campaigns_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        Index("ix_attribution_campaigns_tenant_id_status_created_at_id", "tenant_id", "status", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    budget_minor: Mapped[int] = mapped_column(BigInteger, comment="In minor units of currency (shared.money).")
    currency: Mapped[str] = mapped_column(String(3), comment="ISO 4217 code.")
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    attribution_precedence: Mapped[str] = mapped_column(
        String(10), server_default="code", comment="code, link or recency: which kind of touch wins (crediting/credit.py).")
    attribution_model: Mapped[str] = mapped_column(
        String(20), server_default="last_touch",
        comment="The model that credits orders (services/attribution/models): one of MODEL_NAMES.")
    attribution_params: Mapped[dict] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb"),
        comment="The model's parameters as set (half-life, position weights, Markov order...).")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
