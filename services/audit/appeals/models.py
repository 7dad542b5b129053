"""Appeals: a creator's objection to one finding of an audit (a flag or a signal), filed through a
tenant's share link, resolved by that tenant's reviewers. Private to that tenant."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.audit.db import Base
from shared.tenancy import TenantOwned

OPEN_SQL = "status = 'open'"


class Appeal(TenantOwned, Base):
    __tablename__ = "appeals"
    __table_args__ = (
        # The same appeal sent again while open is the same appeal (a replay changes nothing).
        Index("ix_audit_appeals_tenant_id_fingerprint_open", "tenant_id", "fingerprint", unique=True,
              postgresql_where=text(OPEN_SQL)),
        # The list's keyset order, alone and after each filter it offers.
        Index("ix_audit_appeals_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        Index("ix_audit_appeals_tenant_id_status_created_at_id", "tenant_id", "status", "created_at", "id"),
        Index("ix_audit_appeals_tenant_id_creator_id_created_at_id", "tenant_id", "creator_id", "created_at", "id"),
        Index("ix_audit_appeals_tenant_id_audit_id_created_at_id", "tenant_id", "audit_id", "created_at", "id"),
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        CheckConstraint("decision IS NULL OR decision IN ('upheld', 'rejected')", name="decision"),
        CheckConstraint("(status = 'resolved') = (decision IS NOT NULL)", name="resolved_has_decision"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    share_link_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("share_links.id"))
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), comment="Discovery's creator id.")
    audit_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), comment="The audit appealed against.")
    flag: Mapped[str] = mapped_column(String(100), comment="One of the audit's flags, or a signal's name.")
    comment: Mapped[str] = mapped_column(Text)
    evidence_urls: Mapped[list] = mapped_column(JSONB, server_default="[]")
    fingerprint: Mapped[str] = mapped_column(
        String(64), comment="SHA-256 of audit, flag, comment and evidence: the same appeal sent again."
    )
    status: Mapped[str] = mapped_column(String(20), server_default="open", comment="open or resolved")
    decision: Mapped[str | None] = mapped_column(String(20), comment="upheld or rejected, once resolved.")
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(200), comment="The reviewer's credential subject.")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
