"""What only audit uses, sent through its bulk API: follower samples and comments."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.audit.db import Base


class FollowerSample(Base):
    """One version of a creator's follower sample: each request that changes a creator's sample
    adds a version; audits read the newest and record which one they read (ADR 0029)."""

    __tablename__ = "follower_samples"
    __table_args__ = (Index("ix_audit_follower_samples_creator_id_created_at", "creator_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    size: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(
        String(64), comment="SHA-256 of the sample's profiles: the same sample sent again adds no version."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SampleFollower(Base):
    """One sampled follower, raw fields as sent (any may be unknown but the username)."""

    __tablename__ = "sample_followers"

    sample_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("follower_samples.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    full_name: Mapped[str | None] = mapped_column(Text)
    biography: Mapped[str | None] = mapped_column(Text)
    media_count: Mapped[int | None] = mapped_column(BigInteger)
    follower_count: Mapped[int | None] = mapped_column(BigInteger)
    following_count: Mapped[int | None] = mapped_column(BigInteger)
    has_profile_pic: Mapped[bool | None] = mapped_column(Boolean)
    is_private: Mapped[bool | None] = mapped_column(Boolean)
    is_verified: Mapped[bool | None] = mapped_column(Boolean)
    external_url: Mapped[str | None] = mapped_column(Text)


class Comment(Base):
    """A comment on a creator's post; the same comment sent again is the same row."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_audit_comments_creator_id", "creator_id"),
        # Texts duplicated across creators (AuditInputs.texts_elsewhere).
        Index("ix_audit_comments_text_key", "text_key"),
    )

    post_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    key: Mapped[str] = mapped_column(
        String(64), primary_key=True, comment="SHA-256 of author, text and time: what makes a comment the same one."
    )
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    author: Mapped[str] = mapped_column(String(100), comment="Lower-cased, without '@'.")
    text: Mapped[str] = mapped_column(Text)
    text_key: Mapped[str] = mapped_column(Text, comment="The text normalised (case, spaces) to compare across posts.")
    commented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
