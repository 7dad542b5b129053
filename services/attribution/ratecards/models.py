"""A tenant's own rate cards: money per unit of each engagement type, per platform, versioned.
A new version is a new row; no version is ever rewritten (an EMV names the version it used)."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class RateCard(TenantOwned, Base):
    __tablename__ = "rate_cards"
    __table_args__ = (
        UniqueConstraint("tenant_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_attribution_rate_cards_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(BigInteger, comment="1, 2, ... per tenant; the highest is the one in use.")
    currency: Mapped[str] = mapped_column(String(3), comment="ISO 4217: every rate is in its minor units.")
    rates: Mapped[dict] = mapped_column(JSONB, comment='{platform: {engagement: "minor units per unit, decimal text"}}')
    source: Mapped[str] = mapped_column(Text, comment="Where the rates come from, in the tenant's words.")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
