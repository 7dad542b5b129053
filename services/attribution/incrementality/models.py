"""Holdout tests: a treatment and a control group of regions (or countries), a pre-period and a
test period, optionally for one campaign. Only the design is kept; the result is computed from
the orders whenever it is asked for (incrementality/service.py). Tenant-private."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ARRAY, CheckConstraint, Date, DateTime, ForeignKey, Index, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class HoldoutTest(TenantOwned, Base):
    __tablename__ = "holdout_tests"
    __table_args__ = (
        CheckConstraint("unit IN ('region', 'country')", name="unit_known"),
        CheckConstraint("pre_start <= pre_end AND test_start <= test_end AND pre_end < test_start", name="periods_ordered"),
        Index("ix_attribution_holdout_tests_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("campaigns.id"), comment="Whose attributed revenue is shown beside the lift; null: every campaign's.")
    unit: Mapped[str] = mapped_column(String(10), comment="region (ISO 3166-2, US-CA) or country (ISO 3166-1 alpha-2).")
    treatment: Mapped[list[str]] = mapped_column(ARRAY(String(6)), comment="The units where creators ran.")
    control: Mapped[list[str]] = mapped_column(ARRAY(String(6)), comment="The units held out.")
    pre_start: Mapped[date] = mapped_column(Date, comment="First UTC day of the pre-period.")
    pre_end: Mapped[date] = mapped_column(Date, comment="Last UTC day of the pre-period (included).")
    test_start: Mapped[date] = mapped_column(Date, comment="First UTC day of the test period.")
    test_end: Mapped[date] = mapped_column(Date, comment="Last UTC day of the test period (included).")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AudienceHoldout(TenantOwned, Base):
    """A share of a creator's audience held out of its tracked links: while it runs, the redirect
    sends each visitor, by a stable hash of the visitor, to the link's destination (treatment) or
    to the control destination (control, never credited); the result compares the two groups'
    conversion (incrementality/audience.py)."""

    __tablename__ = "audience_holdouts"
    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="period_ordered"),
        CheckConstraint("holdout_share > 0 AND holdout_share < 1", name="share_between"),
        Index("ix_attribution_audience_holdouts_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        Index("ix_attribution_audience_holdouts_link_ids", "link_ids", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("campaigns.id"))
    link_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), comment="The tracked links whose visitors are split.")
    holdout_share: Mapped[Decimal] = mapped_column(
        Numeric(5, 4), comment="The share of visitors held out (the control group), 0.01-0.5.")
    control_destination: Mapped[str | None] = mapped_column(
        Text, nullable=True, comment="Where a held-out visitor is sent; null: the link's destination without its UTM tagging.")
    starts_on: Mapped[date] = mapped_column(Date, comment="First UTC day visitors are split.")
    ends_on: Mapped[date] = mapped_column(Date, comment="Last UTC day visitors are split (included).")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
