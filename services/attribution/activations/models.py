"""Content activations (the posts that deliver a campaign's deliverables) and the metric
snapshots read off them over time. Private to the campaign's tenant."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned

# The figures a snapshot may carry, as the API, the CSV header and the columns name them.
METRICS = ("impressions", "reach", "views", "likes", "comments", "shares", "saves")


class Activation(TenantOwned, Base):
    __tablename__ = "activations"
    __table_args__ = (
        # One post is one activation of a campaign: the CSV import finds it again by its URL.
        UniqueConstraint("campaign_id", "url"),
        # A campaign's activations, oldest first (the list's keyset).
        Index("ix_attribution_activations_campaign_id_created_at_id", "campaign_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("campaigns.id"))
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), comment="Enrolled in the campaign when recorded.")
    platform: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(20), comment="The deliverables' vocabulary (enrolment/schemas.py FORMATS).")
    url: Mapped[str] = mapped_column(String(2048))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())


class Snapshot(TenantOwned, Base):
    __tablename__ = "activation_snapshots"
    __table_args__ = (
        # One reading per instant: the same observed_at again is the same reading (or a 409).
        UniqueConstraint("activation_id", "observed_at"),
        *(CheckConstraint(f"{m} IS NULL OR {m} >= 0", name=f"{m}_not_negative") for m in METRICS),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    activation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("activations.id", ondelete="CASCADE"))
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    impressions: Mapped[int | None] = mapped_column(BigInteger, nullable=True, comment="Null: not reported.")
    reach: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    views: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    likes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    comments: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    shares: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    saves: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
