"""Audit's own copy of what discovery publishes about a creator (discovery.creator.v2).

No foreign keys: one creator's events come in order on one partition, but a replay or a
restored backup may bring a post before its creator, and a projection must take it."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.audit.db import Base


class Creator(Base):
    """The creator's primary account and every account, as its last applied event said."""

    __tablename__ = "creators"

    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), comment="The primary account's platform.")
    handle: Mapped[str] = mapped_column(String(100), comment="The primary account's handle.")
    display_name: Mapped[str | None] = mapped_column(Text)
    primary_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), comment="The account of `accounts` matching platform + handle, when listed."
    )
    followers: Mapped[int | None] = mapped_column(BigInteger)
    following: Mapped[int | None] = mapped_column(BigInteger)
    posts_count: Mapped[int | None] = mapped_column(BigInteger)
    accounts: Mapped[list] = mapped_column(JSONB, server_default="[]", comment="discovery's AccountSnapshot list.")
    bio: Mapped[str | None] = mapped_column(Text, comment="Brand safety reads it.")
    country: Mapped[str | None] = mapped_column(String(2), comment="ISO 3166-1 alpha-2: picks the disclosure rules.")
    languages: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}", comment="ISO 639-1 codes.")
    sequence: Mapped[int | None] = mapped_column(
        BigInteger, comment="Sequence of the CreatorCreated/CreatorChanged event applied last (ADR 0003)."
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # An audit reads a creator's latest posts; comments name a post by platform + external id.
        Index("ix_audit_posts_creator_id_posted_at", "creator_id", "posted_at"),
        Index("ix_audit_posts_platform_external_id", "platform", "external_id"),
    )

    post_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    type: Mapped[str] = mapped_column(String(20))
    caption: Mapped[str | None] = mapped_column(Text)
    hashtags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    mentions: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    views: Mapped[int | None] = mapped_column(BigInteger)
    paid_partnership: Mapped[bool] = mapped_column(Boolean, server_default="false")
    sponsored: Mapped[bool] = mapped_column(Boolean, server_default="false")
    sequence: Mapped[int | None] = mapped_column(BigInteger, comment="Sequence of the PostsObserved applied last.")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FollowerPoint(Base):
    """One observation of an account's follower count."""

    __tablename__ = "follower_points"
    __table_args__ = (Index("ix_audit_follower_points_creator_id_observed_at", "creator_id", "observed_at"),)

    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    followers: Mapped[int] = mapped_column(BigInteger)
    sequence: Mapped[int | None] = mapped_column(BigInteger, comment="Sequence of the event that gave this value.")


__all__ = ["Creator", "Post", "FollowerPoint"]
