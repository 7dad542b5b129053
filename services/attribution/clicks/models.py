"""Clicks on tracked links: recorded by the public redirect, private to the link's tenant."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class Click(TenantOwned, Base):
    __tablename__ = "clicks"
    __table_args__ = (
        # The repeat-click check: this visitor's clicks on this link, latest first.
        Index("ix_attribution_clicks_link_id_visitor_hash_clicked_at", "link_id", "visitor_hash", "clicked_at"),
        # A creator's sales record (crediting/performance.py): their credited-able clicks, across tenants.
        Index("ix_attribution_clicks_creator_id_unflagged", "creator_id", postgresql_where="NOT flagged"),
        # The reports (reports/repository.py): a campaign's clicks and a creator's, in a period,
        # counted from the index alone (index-only scans: what they count is included).
        Index(
            "ix_attribution_clicks_tenant_id_campaign_id_clicked_at", "tenant_id", "campaign_id", "clicked_at",
            postgresql_include=["creator_id", "is_unique", "flagged"],
        ),
        # The fraud rules (fraud/service.py): a creator's clicks from one visitor or one network around a time.
        Index("ix_attribution_clicks_creator_id_visitor_hash_clicked_at", "creator_id", "visitor_hash", "clicked_at"),
        Index("ix_attribution_clicks_creator_id_network_hash_clicked_at", "creator_id", "network_hash", "clicked_at",
              postgresql_where="network_hash IS NOT NULL"),
        Index(
            "ix_attribution_clicks_tenant_id_creator_id_clicked_at", "tenant_id", "creator_id", "clicked_at",
            postgresql_include=["campaign_id", "is_unique", "flagged"],
        ),
        # An audience holdout's result (incrementality/audience.py): its clicks.
        Index("ix_attribution_clicks_holdout_id", "holdout_id", postgresql_where="holdout_id IS NOT NULL"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, comment="The click id the redirect appends as ll_click."
    )
    link_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("links.id"))
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    clicked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    visitor_hash: Mapped[str | None] = mapped_column(
        String(64), nullable=True, comment="HMAC-SHA256 of the client address under ATTRIBUTION_HASH_KEY; never the address."
    )
    network_hash: Mapped[str | None] = mapped_column(
        String(64), nullable=True,
        comment="HMAC-SHA256 of the address's /24 (IPv4) or /48 (IPv6) network; never the network.")
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)
    referrer: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True, comment="ISO 3166-1 alpha-2, from a CDN's header.")
    method: Mapped[str] = mapped_column(String(8))
    flagged: Mapped[bool] = mapped_column(Boolean, comment="A bot, a link-preview fetcher or a HEAD: never credited.")
    flag_reason: Mapped[str | None] = mapped_column(String(100), nullable=True)
    holdout_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), nullable=True, comment="The audience holdout that split this visitor, if any.")
    holdout_group: Mapped[str | None] = mapped_column(
        String(10), nullable=True, comment="treatment or control (held out: never credited).")
    is_unique: Mapped[bool] = mapped_column(
        Boolean, comment="False for a flagged click and for a repeat by the same visitor on the same link within 30 minutes."
    )
