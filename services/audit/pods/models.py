"""Engagement pods found across every creator's comments, replaced as a whole by each run of
the pods job (services.audit.pods.job)."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, SmallInteger, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.audit.db import Base


class Pod(Base):
    __tablename__ = "pods"
    __table_args__ = (Index("ix_audit_pods_creators", "creators", postgresql_using="gin"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    members: Mapped[list[str]] = mapped_column(ARRAY(Text), comment="Commenting accounts, sorted.")
    creators: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), comment="Creators involved, sorted.")
    co_comments: Mapped[int] = mapped_column(Integer)
    posts: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PodsState(Base):
    """One row: whether comments arrived since pods were last computed (the job's debounce)."""

    __tablename__ = "pods_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    dirty_since: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="First comment ingest not yet reflected in `pods`."
    )
    last_ingest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comments_read: Mapped[int | None] = mapped_column(Integer, comment="Comments the last run read.")
