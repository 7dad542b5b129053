"""Shortlists: a tenant's own lists of creators from the shared catalogue, with a note, tags and
an outreach stage per creator, and the history of its stage changes. Private to the tenant that
made them (shared.tenancy)."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.discovery.creator.models import Creator  # noqa: F401  (the entries' foreign key)
from services.discovery.db import Base
from services.discovery.shortlist.stages import DEFAULT, Stage
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


_STAGE_KNOWN = "stage IN (" + ", ".join(f"'{s.value}'" for s in Stage) + ")"


class ShortlistEntry(TenantOwned, Base):
    """A creator on a shortlist. Its tenant is its shortlist's: it is only ever added through a
    shortlist the session could see."""

    __tablename__ = "shortlist_entries"
    __table_args__ = (
        # The entries of one shortlist in the order they were added.
        Index("ix_discovery_shortlist_entries_shortlist_id_created_at", "shortlist_id", "created_at", "creator_id"),
        # Entries of a creator (a creator's removal from the index cascades here).
        Index("ix_discovery_shortlist_entries_creator_id", "creator_id"),
        # The entries of one shortlist at one stage, in the order they were added.
        Index(
            "ix_discovery_shortlist_entries_shortlist_id_stage_created_at",
            "shortlist_id", "stage", "created_at", "creator_id",
        ),
        CheckConstraint(_STAGE_KNOWN, name="stage_known"),
    )

    shortlist_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("shortlists.id", ondelete="CASCADE"), primary_key=True
    )
    creator_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default="{}")
    stage: Mapped[str] = mapped_column(String(20), server_default=DEFAULT.value, comment="Outreach stage (stages.py).")
    stage_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), comment="When the entry reached its stage."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class StageChange(TenantOwned, Base):
    """One move of an entry between stages, appended when it happens and never changed: the
    record reports are computed from. Its first row is the entry's arrival as a prospect
    (from_stage null). It goes with its entry (a removed entry leaves no pipeline behind)."""

    __tablename__ = "shortlist_stage_changes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["shortlist_id", "creator_id"],
            ["shortlist_entries.shortlist_id", "shortlist_entries.creator_id"],
            ondelete="CASCADE",
        ),
        # An entry's history in order, and (by its prefix) a whole shortlist's for its report.
        Index("ix_discovery_shortlist_stage_changes_entry_at", "shortlist_id", "creator_id", "at", "id"),
        CheckConstraint(_STAGE_KNOWN.replace("stage IN", "to_stage IN"), name="to_stage_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    shortlist_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    from_stage: Mapped[str | None] = mapped_column(String(20), comment="Null for the entry's arrival.")
    to_stage: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(Text, comment="Who made the change: the identity's subject (key:<id> or a user).")
    note: Mapped[str | None] = mapped_column(Text)
