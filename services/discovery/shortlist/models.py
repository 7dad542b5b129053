"""Shortlists: a tenant's own lists of creators from the shared catalogue, with a note and tags
per creator. Private to the tenant that made them (shared.tenancy)."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.discovery.creator.models import Creator  # noqa: F401  (the entries' foreign key)
from services.discovery.db import Base
from shared.tenancy import TenantOwned


class Shortlist(TenantOwned, Base):
    __tablename__ = "shortlists"
    __table_args__ = (
        # One name per tenant; also the index of the tenant's list, oldest first.
        UniqueConstraint("tenant_id", "name"),
        Index("ix_discovery_shortlists_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ShortlistEntry(TenantOwned, Base):
    """A creator on a shortlist. Its tenant is its shortlist's: it is only ever added through a
    shortlist the session could see."""

    __tablename__ = "shortlist_entries"
    __table_args__ = (
        # The entries of one shortlist in the order they were added.
        Index("ix_discovery_shortlist_entries_shortlist_id_created_at", "shortlist_id", "created_at", "creator_id"),
        # Entries of a creator (a creator's removal from the index cascades here).
        Index("ix_discovery_shortlist_entries_creator_id", "creator_id"),
    )

    shortlist_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("shortlists.id", ondelete="CASCADE"), primary_key=True
    )
    creator_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
