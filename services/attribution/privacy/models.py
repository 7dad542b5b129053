"""What attribution did for each data-subject request: its receipt (shared/privacy.py, ADR 0054)."""

from sqlalchemy import Index

from services.attribution.db import Base
from shared.privacy import ReceiptColumns
from shared.tenancy import TenantOwned


class PrivacyReceipt(ReceiptColumns, TenantOwned, Base):
    """What attribution did for one request, written in the transaction that did it."""

    __tablename__ = "privacy_receipts"
    __table_args__ = (Index("ix_attribution_privacy_receipts_tenant_completed", "tenant_id", "completed_at", "request_id"),)
