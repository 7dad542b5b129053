"""A tenant's own brand-safety keyword lists, applied on top of the default list (engine/brandsafety).
Private to the tenant that made them (shared.tenancy)."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.audit.db import Base
from shared.tenancy import TenantOwned


class BrandSafetyList(TenantOwned, Base):
    __tablename__ = "brand_safety_lists"
    __table_args__ = (
        # One name per tenant (a replayed create is a 409, not a second list); also the index of
        # the tenant's lists, oldest first.
        UniqueConstraint("tenant_id", "name"),
        Index("ix_audit_brand_safety_lists_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(40), comment="A default category or the tenant's own.")
    terms: Mapped[list[str]] = mapped_column(ARRAY(Text), comment="As the tenant wrote them.")
    exclude_default_categories: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), server_default="{}",
        comment="Default-list categories the tenant's checks skip while this list exists.",
    )
    revision: Mapped[int] = mapped_column(
        Integer, server_default="1", comment="Raised by each change: a check names the revision it applied."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())
