"""Receipts of the data-subject requests discovery acted on (shared/privacy.py, docs/decisions/0054).
Private to the workspace that asked (shared.tenancy)."""

from services.discovery.db import Base
from shared.privacy import ReceiptColumns
from shared.tenancy import TenantOwned


class PrivacyReceipt(ReceiptColumns, TenantOwned, Base):
    """What discovery did for one request, written in the transaction that did it."""

    __tablename__ = "privacy_receipts"
