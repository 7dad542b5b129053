"""Saved briefs: a tenant's own brand-fit briefs, re-run on demand. Private to the tenant that
saved them (shared.tenancy)."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.discovery.db import Base
from shared.tenancy import TenantOwned


class SavedBrief(TenantOwned, Base):
    __tablename__ = "briefs"
    __table_args__ = (
        # One name per tenant.
        UniqueConstraint("tenant_id", "name"),
        # The tenant's list, oldest first.
        Index("ix_discovery_briefs_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    brief: Mapped[dict] = mapped_column(JSONB, comment="The brief as the API takes it (brandfit.schemas.Brief).")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
