"""What attribution did for each data-subject request: its receipt (shared/privacy.py, ADR 0054)."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class PrivacyReceipt(TenantOwned, Base):
    __tablename__ = "privacy_receipts"
    __table_args__ = (Index("ix_attribution_privacy_receipts_tenant_completed", "tenant_id", "completed_at", "request_id"),)

    request_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), comment="export | erasure")
    subject_type: Mapped[str] = mapped_column(String(16), comment="customer | creator")
    origin: Mapped[str] = mapped_column(String(16), comment="api | shopify (a store's privacy webhook)")
    actions: Mapped[list] = mapped_column(JSONB, comment="What was done, per kind of record, with counts.")
    export: Mapped[dict | None] = mapped_column(JSONB, comment="For an export: the data held about the subject.")
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
