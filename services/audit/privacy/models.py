"""Receipts of the data-subject requests audit acted on (shared/privacy.py, docs/decisions/0054),
private to the workspace that asked (shared.tenancy); and the ids of the creators it erased."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.audit.db import Base
from shared.privacy import ReceiptColumns
from shared.tenancy import TenantOwned


class PrivacyReceipt(ReceiptColumns, TenantOwned, Base):
    """What audit did for one request, written in the transaction that did it."""

    __tablename__ = "privacy_receipts"


class ErasedCreator(Base):
    """A creator audit erased. Discovery's events about it may still arrive (published before its
    erasure there, or before discovery acted on the same request): they are ignored, so nothing
    of the creator comes back. The id is discovery's random one and names no one once the rest
    is gone; discovery never gives it to another creator."""

    __tablename__ = "erased_creators"

    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, comment="Discovery's creator id.")
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
