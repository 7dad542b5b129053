"""Affiliate codes: a creator's discount code for a campaign. Private to the campaign's tenant."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class Code(TenantOwned, Base):
    __tablename__ = "codes"
    __table_args__ = (
        CheckConstraint("origin IN ('chosen', 'generated')", name="origin_known"),
        CheckConstraint("usage_limit IS NULL OR usage_limit >= 1", name="usage_limit_positive"),
        CheckConstraint("uses >= 0", name="uses_not_negative"),
        # The tenant's list, oldest first, and a campaign's or a creator's codes.
        Index("ix_attribution_codes_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        Index("ix_attribution_codes_campaign_id_creator_id", "campaign_id", "creator_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("campaigns.id"))
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), comment="Discovery's creator id.")
    code: Mapped[str] = mapped_column(String(32), comment="As chosen or generated; matched case-insensitively.")
    origin: Mapped[str] = mapped_column(String(10), comment="chosen (vanity) or generated (from pattern).")
    pattern: Mapped[str | None] = mapped_column(String(64), nullable=True, comment="The pattern a generated code came from.")
    usage_limit: Mapped[int | None] = mapped_column(BigInteger, nullable=True, comment="Orders it may be credited on; null: no limit.")
    uses: Mapped[int] = mapped_column(BigInteger, server_default="0", comment="Orders credited through it so far.")
    platform: Mapped[str | None] = mapped_column(String(20), nullable=True, comment="Where the creator shares it (instagram, tiktok...): the reports' platform; null: not said.")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())


# Unique per tenant whatever the case: checkouts match codes case-insensitively (Shopify does), so
# MAYA15 and maya15 are one code to a shopper. A revoked code keeps its row, and so its place here:
# a late order carrying it can never be credited to whoever took it next.
Index("uq_attribution_codes_tenant_id_upper_code", Code.tenant_id, func.upper(Code.code), unique=True)
