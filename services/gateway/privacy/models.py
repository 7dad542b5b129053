"""Data-subject requests made through the gateway (gateway schema, ADR 0054). The subject's
identifiers are not kept here: only a masked hint to recognise the request by."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.gateway.db import Base


class PrivacyRequest(Base):
    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_tenant_created", "tenant_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gateway.tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), comment="export | erasure")
    subject_type: Mapped[str] = mapped_column(String(16), comment="customer | creator")
    subject_hint: Mapped[str] = mapped_column(String(200), comment="Masked: a***@example.com, customer id …42, a creator id.")
    requested_by: Mapped[str] = mapped_column(String(200), comment="The credential's subject (a key id or a user).")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
