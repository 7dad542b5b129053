import uuid
from datetime import datetime

from sqlalchemy import DateTime, Float, Index, String, Text, func, literal_column, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.audit.db import Base


# Literal SQL, not a bound parameter: PostgreSQL uses a partial index only when it can see
# the query's condition implies the index's, which a generic plan's $1 never does.
PENDING = literal_column("'pending'")


class Audit(Base):
    __tablename__ = "audits"
    __table_args__ = (
        # The list's keyset order, alone and after each filter it offers.
        Index("ix_audit_audits_created_at_id", "created_at", "id"),
        Index("ix_audit_audits_creator_id_created_at_id", "creator_id", "created_at", "id"),
        Index("ix_audit_audits_status_created_at_id", "status", "created_at", "id"),
        # Is an audit already pending for this creator? Asked for every creator event.
        Index("ix_audit_audits_pending_creator_id", "creator_id", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(20), comment="pending, completed or failed")
    trigger: Mapped[str] = mapped_column(String(40), comment="What asked for the audit, e.g. creator_created.")
    trigger_event_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    score: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list] = mapped_column(JSONB, server_default="[]")
    model_version: Mapped[str | None] = mapped_column(String(50))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
