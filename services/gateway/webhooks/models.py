"""Webhook sources and the delivery ids already accepted from them (gateway schema).

A source's signing secret is stored only as a Fernet token (`vault.py`); during a rotation's
grace period the previous one is kept beside it, with the moment it stops being accepted.
"""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.gateway.db import Base


class WebhookSource(Base):
    __tablename__ = "webhook_sources"
    __table_args__ = (Index("ix_webhook_sources_tenant_created", "tenant_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gateway.tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), comment="shopify | generic")
    name: Mapped[str] = mapped_column(String(200))
    shop_domain: Mapped[str | None] = mapped_column(String(255), comment="Shopify only: <shop>.myshopify.com")
    secret_encrypted: Mapped[str] = mapped_column(Text, comment="Fernet token of the signing secret.")
    secret_hint: Mapped[str] = mapped_column(String(8), comment="Last characters of the secret, to recognise it.")
    previous_secret_encrypted: Mapped[str | None] = mapped_column(
        Text, comment="Fernet token of the secret replaced by the last rotation, while it is still accepted."
    )
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebhookDelivery(Base):
    """A delivery id accepted (published) for a source: a partner's retry of it is answered 200
    without publishing again. Kept for `GATEWAY_WEBHOOK_DELIVERY_RETENTION_HOURS`."""

    __tablename__ = "webhook_deliveries"

    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("gateway.webhook_sources.id", ondelete="CASCADE"), primary_key=True
    )
    delivery_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
