"""Commission rule versions: a campaign's rule, and per-creator overrides of it. A version is
never edited or deleted; a change is a new version with a later `effective_from`. Private to the
campaign's tenant (shared.tenancy)."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, func)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from services.attribution.rules.terms import ProductRate, Rule, Tier
from shared.tenancy import TenantOwned

PERCENT = Numeric(7, 4)


class CommissionRule(TenantOwned, Base):
    __tablename__ = "commission_rules"
    __table_args__ = (
        # One version number per scope (the campaign's rule: creator_id NULL; or one creator's
        # override). NULLS NOT DISTINCT (PostgreSQL 15) so the campaign's own versions are unique too.
        UniqueConstraint("campaign_id", "creator_id", "version", postgresql_nulls_not_distinct=True),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)", name="percent_in_range"),
        CheckConstraint("new_customer_percent IS NULL OR (new_customer_percent >= 0 AND new_customer_percent <= 100)",
                        name="new_customer_percent_in_range"),
        CheckConstraint("repeat_customer_percent IS NULL OR (repeat_customer_percent >= 0 AND repeat_customer_percent <= 100)",
                        name="repeat_customer_percent_in_range"),
        CheckConstraint("flat_minor IS NULL OR flat_minor >= 0", name="flat_minor_not_negative"),
        CheckConstraint("cap_per_order_minor IS NULL OR cap_per_order_minor >= 0", name="cap_per_order_minor_not_negative"),
        CheckConstraint("cap_per_period_minor IS NULL OR cap_per_period_minor >= 0", name="cap_per_period_minor_not_negative"),
        CheckConstraint("holding_days >= 0", name="holding_days_not_negative"),
        CheckConstraint("window_days >= 1", name="window_days_positive"),
        # The rule in force at a time: the scope's latest effective_from at or before it.
        Index("ix_attribution_commission_rules_scope_effective_from",
              "campaign_id", "creator_id", "effective_from"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("campaigns.id"))
    creator_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), nullable=True, comment="NULL: the campaign's rule; else an override for this enrolled creator."
    )
    version: Mapped[int] = mapped_column(Integer, comment="1, 2, ... within the campaign's rule or the creator's override.")
    effective_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    currency: Mapped[str] = mapped_column(String(3), comment="The campaign's currency when the version was made.")
    percent: Mapped[Decimal | None] = mapped_column(PERCENT, nullable=True)
    flat_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True, comment="Per order, in minor units.")
    include_tax: Mapped[bool] = mapped_column(Boolean)
    include_shipping: Mapped[bool] = mapped_column(Boolean)
    tiers: Mapped[list] = mapped_column(JSONB, comment='[{"above": minor units, "percent": "12.5"}], increasing.')
    window_days: Mapped[int] = mapped_column(Integer)
    new_customer_percent: Mapped[Decimal | None] = mapped_column(PERCENT, nullable=True)
    repeat_customer_percent: Mapped[Decimal | None] = mapped_column(PERCENT, nullable=True)
    product_rates: Mapped[list] = mapped_column(JSONB, comment='[{"match": "variant|product|sku|collection", "value", "percent"}]')
    cap_per_order_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cap_per_period_minor: Mapped[int | None] = mapped_column(
        BigInteger, nullable=True, comment="Per creator per calendar month (UTC)."
    )
    holding_days: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def terms(self) -> Rule:
        """The version as `compute` takes it."""
        scope = f"creator {self.creator_id}'s override" if self.creator_id else "the campaign's rule"
        return Rule(
            currency=self.currency,
            percent=self.percent,
            flat_minor=self.flat_minor,
            include_tax=self.include_tax,
            include_shipping=self.include_shipping,
            tiers=tuple(Tier(t["above"], Decimal(t["percent"])) for t in self.tiers),
            window_days=self.window_days,
            new_customer_percent=self.new_customer_percent,
            repeat_customer_percent=self.repeat_customer_percent,
            product_rates=tuple(ProductRate(r["match"], r["value"], Decimal(r["percent"])) for r in self.product_rates),
            cap_per_order_minor=self.cap_per_order_minor,
            cap_per_period_minor=self.cap_per_period_minor,
            holding_days=self.holding_days,
            label=f"{scope}, version {self.version}",
        )
