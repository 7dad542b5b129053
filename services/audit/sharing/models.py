"""Share links: a tenant's read-only, expiring link to a creator's latest audit, for the creator
(docs/decisions/0043-audit-history-share-links-appeals.md). Private to the tenant that made it,
except that the public view finds one by its token's hash across tenants."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.audit.db import Base
from shared.tenancy import TenantOwned


class ShareLink(TenantOwned, Base):
    __tablename__ = "share_links"
    __table_args__ = (
        # The public view carries only the token: its hash names one link in the installation.
        UniqueConstraint("token_hash"),
        Index("ix_audit_share_links_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), comment="Discovery's creator id.")
    token_hash: Mapped[str] = mapped_column(
        String(64), comment="SHA-256 (hex) of the token; the token itself is shown once and never stored."
    )
    note: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now
