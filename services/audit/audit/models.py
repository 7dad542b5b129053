import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.audit.db import Base


# Literal SQL, not a bound parameter: PostgreSQL uses a partial index only when it can see
# the query's condition implies the index's, which a generic plan's $1 never does.
ACTIVE_SQL = "status IN ('pending', 'running')"


class Audit(Base):
    __tablename__ = "audits"
    __table_args__ = (
        # The list's keyset order, alone and after each filter it offers.
        Index("ix_audit_audits_created_at_id", "created_at", "id"),
        Index("ix_audit_audits_creator_id_created_at_id", "creator_id", "created_at", "id"),
        Index("ix_audit_audits_status_created_at_id", "status", "created_at", "id"),
        # One audit of a creator pending or running at a time: the database says so (ADR 0029).
        Index("ix_audit_audits_pending_creator_id", "creator_id", unique=True, postgresql_where=text(ACTIVE_SQL)),
        # The runner's queue: due pending audits, and running ones whose lease ran out.
        Index("ix_audit_audits_due", "run_after", postgresql_where=text("status = 'pending'")),
        Index("ix_audit_audits_leased", "lease_expires_at", postgresql_where=text("status = 'running'")),
        CheckConstraint("status IN ('pending', 'running', 'completed', 'failed')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(20), comment="pending, running, completed or failed")
    trigger: Mapped[str] = mapped_column(String(40), comment="What asked for the audit, e.g. creator_created.")
    trigger_event_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(5))
    confidence: Mapped[float | None] = mapped_column(Float)
    audience_quality: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list] = mapped_column(JSONB, server_default="[]")
    signals: Mapped[list] = mapped_column(JSONB, server_default="[]", comment="Every signal, judged or not.")
    versions: Mapped[dict] = mapped_column(JSONB, server_default="{}", comment="model, rules and benchmark versions.")
    samples: Mapped[dict] = mapped_column(JSONB, server_default="{}", comment="Sizes of what the audit read.")
    jurisdictions: Mapped[list[str] | None] = mapped_column(
        ARRAY(Text),
        comment="Disclosure rule sets asked for (US, UK, DE, FR, ES); null: the creator's country's plus US and UK.",
    )
    sponsors: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default="{}", comment="Brands named as sponsors: a post naming one is sponsored."
    )
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True),
        comment="The workspace whose request set jurisdictions and sponsors; null: none did (the defaults). "
        "Only it sees the sponsors.",
    )
    window_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    follower_sample_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), comment="The follower sample version the audit read."
    )
    model_version: Mapped[str | None] = mapped_column(String(50))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    run_after: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="A pending audit is not run before this."
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default="0", comment="Runs started (claims).")
    lease_token: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), comment="Set by each claim.")
    lease_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="A running audit past this is claimable again (its runner died)."
    )
    rerun_requested: Mapped[bool] = mapped_column(
        Boolean, server_default="false", comment="Data changed materially while running: audit again after."
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
