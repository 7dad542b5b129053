import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, Index, String, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.discovery.db import Base


class Creator(Base):
    __tablename__ = "creators"
    __table_args__ = (
        UniqueConstraint("platform", "handle"),
        # The list's keyset order, alone and after the platform filter.
        Index("ix_discovery_creators_created_at_id", "created_at", "id"),
        Index("ix_discovery_creators_platform_created_at_id", "platform", "created_at", "id"),
        # The other sorts GET /creators offers (repository.SORTS), NULLs last both ways: an
        # ascending index read backwards would put them first, so descending has its own.
        Index("ix_discovery_creators_follower_count_id", "follower_count", "id"),
        Index(
            "ix_discovery_creators_follower_count_desc_id",
            text("follower_count DESC NULLS LAST"),
            text("id DESC"),
        ),
        Index("ix_discovery_creators_audit_score_id", "audit_score", "id"),
        Index("ix_discovery_creators_audit_score_desc_id", text("audit_score DESC NULLS LAST"), text("id DESC")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(100), comment="Lower-cased, without '@'.")
    display_name: Mapped[str | None] = mapped_column(String(200))
    follower_count: Mapped[int | None] = mapped_column(BigInteger)
    # Projection of audit.audit.v1 (owned by the audit service).
    audit_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    audit_status: Mapped[str | None] = mapped_column(String(20))
    audit_score: Mapped[float | None] = mapped_column(Float)
    audit_updated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="occurred_at of the last audit event applied."
    )
    audit_sequence: Mapped[int | None] = mapped_column(
        BigInteger, comment="sequence of the last audit event applied (per creator on audit.audit.v1)."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
