"""Tracked links: a creator's short link to a brand's page. Private to the campaign's tenant,
except that `/r/{slug}` finds one by its slug across tenants (the slug is unique installation-wide)."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class Link(TenantOwned, Base):
    __tablename__ = "links"
    __table_args__ = (
        # `/r/{slug}` carries no tenant: a slug names one link in the whole installation.
        UniqueConstraint("slug"),
        CheckConstraint("window_days BETWEEN 1 AND 365", name="window_days_bounded"),
        Index("ix_attribution_links_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        Index("ix_attribution_links_campaign_id_creator_id", "campaign_id", "creator_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("campaigns.id"))
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), comment="Discovery's creator id.")
    slug: Mapped[str] = mapped_column(String(32), comment="16 URL-safe characters: 96 random bits.")
    destination: Mapped[str] = mapped_column(Text, comment="The URL as the brand gave it.")
    utm: Mapped[dict] = mapped_column(JSONB, comment="The UTM parameters asked for, by name.")
    target: Mapped[str] = mapped_column(
        Text, comment="destination with the UTM parameters it did not already have; the redirect adds ll_click."
    )
    window_days: Mapped[int] = mapped_column(Integer, comment="Days after a click an order may be credited to it.")
    platform: Mapped[str | None] = mapped_column(String(20), nullable=True, comment="Where the creator shares it (instagram, tiktok...): the reports' platform; null: not said.")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())
