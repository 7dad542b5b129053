"""Enrolments: a creator taking part in a campaign, on a deal. Private to the campaign's tenant."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class Enrolment(TenantOwned, Base):
    __tablename__ = "enrolments"
    __table_args__ = (
        # One deal per creator per campaign: a second enrolment is a 409, never a second row.
        UniqueConstraint("campaign_id", "creator_id"),
        CheckConstraint("deal_type IN ('gifted', 'paid', 'affiliate', 'hybrid')", name="deal_type_known"),
        CheckConstraint("fee_minor >= 0", name="fee_minor_not_negative"),
        CheckConstraint("product_value_minor >= 0", name="product_value_minor_not_negative"),
        # A campaign's creators, oldest first (the list's keyset).
        Index("ix_attribution_enrolments_campaign_id_created_at_id", "campaign_id", "created_at", "id"),
        # The creator report (reports/repository.py): the campaigns a creator is enrolled in.
        Index("ix_attribution_enrolments_tenant_id_creator_id", "tenant_id", "creator_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("campaigns.id"))
    creator_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), comment="Discovery's creator id; attribution keeps no creator data."
    )
    deal_type: Mapped[str] = mapped_column(String(20))
    fee_minor: Mapped[int] = mapped_column(BigInteger, comment="In minor units of the campaign's currency.")
    product_value_minor: Mapped[int] = mapped_column(
        BigInteger, comment="Value of the products given, in minor units of the campaign's currency."
    )
    deliverables: Mapped[list] = mapped_column(JSONB, comment="[{platform, format, count, due_on}]")
    whitelisting: Mapped[dict | None] = mapped_column(
        JSONB, nullable=True, comment="{channels, starts_on, ends_on, status}, or null: no rights asked."
    )
    money_recorded: Mapped[bool] = mapped_column(
        Boolean,
        server_default="false",
        comment="Set by whatever first records money against this enrolment (the commission ledger); "
        "from then on it cannot be removed.",
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
