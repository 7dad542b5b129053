"""Partner orders as attribution keeps them: the order as sent (parsed, amounts in minor units,
the customer as a keyed hash), its refunds and cancellation, each stored once however often it
arrives and in whatever order, and the commission basis recomputed from all of them.
Tenant-private (shared.tenancy)."""

import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY, BigInteger, Boolean, CheckConstraint, DateTime, Index, SmallInteger, String, Text, UniqueConstraint, func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned

# The webhook source an order came through: the gateway's source id, or this one when an older
# event did not say (gateway.webhook.v1 minor version 1).
NO_SOURCE = uuid.UUID(int=0)


class PartnerOrder(TenantOwned, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "source_id", "order_id", name="uq_orders_partner_order"),
        CheckConstraint("source IN ('shopify', 'generic')", name="source_known"),
        CheckConstraint("state IN ('open', 'cancelled')", name="state_known"),
        CheckConstraint("basis_rules IN (1, 2)", name="basis_rules_known"),
        Index("ix_attribution_orders_tenant_id_placed_at_id", "tenant_id", "placed_at", "id"),
        # Crediting's "is this the customer's first order?" (a first-purchase rate).
        Index("ix_attribution_orders_tenant_id_customer_key_placed_at", "tenant_id", "customer_key", "placed_at",
              postgresql_where="customer_key IS NOT NULL"),
        # Holdout tests (incrementality/): a tenant's orders shipped to some countries over a period.
        Index("ix_attribution_orders_tenant_id_shipping_country_placed_at", "tenant_id", "shipping_country", "placed_at",
              postgresql_where="shipping_country IS NOT NULL"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    source: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), comment="The gateway's webhook source.")
    order_id: Mapped[str] = mapped_column(String(255), comment="The partner's order id.")
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list] = mapped_column(JSONB, comment="The line items as parsed: amounts in minor units.")
    subtotal_minor: Mapped[int | None] = mapped_column(BigInteger)
    discounts_minor: Mapped[int | None] = mapped_column(BigInteger)
    tax_minor: Mapped[int | None] = mapped_column(BigInteger)
    shipping_minor: Mapped[int | None] = mapped_column(BigInteger)
    total_minor: Mapped[int | None] = mapped_column(BigInteger)
    taxes_included: Mapped[bool] = mapped_column(Boolean)
    customer_key: Mapped[str | None] = mapped_column(String(64), comment="Keyed hash of the customer; never the e-mail.")
    codes: Mapped[list[str]] = mapped_column(ARRAY(String(255)))
    click_ids: Mapped[list[str]] = mapped_column(ARRAY(String(255)))
    landing_site: Mapped[str | None] = mapped_column(Text)
    referring_site: Mapped[str | None] = mapped_column(Text)
    financial_status: Mapped[str | None] = mapped_column(String(64))
    test: Mapped[bool] = mapped_column(Boolean)
    notes: Mapped[list[str]] = mapped_column(ARRAY(Text), comment="What did not add up in the partner's totals.")
    shipping_country: Mapped[str | None] = mapped_column(
        String(2), comment="ISO 3166-1 alpha-2 country of the shipping address; nothing else of it is kept.")
    shipping_region: Mapped[str | None] = mapped_column(
        String(6), comment="ISO 3166-2 region of the shipping address (US-CA): its country and province code.")
    partner_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20))
    basis_minor: Mapped[int] = mapped_column(BigInteger, comment="The commission basis now, after refunds.")
    basis_before_refunds_minor: Mapped[int] = mapped_column(BigInteger)
    basis_explanation: Mapped[str] = mapped_column(Text)
    basis_rules: Mapped[int] = mapped_column(
        # The code stamps every order; a row without it was written by code older than rules 2.
        SmallInteger, server_default="1",
        comment="The commission basis rules (orders/basis.py) the order is computed under: stamped when first stored.")
    last_delivery_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())


class PartnerRefund(TenantOwned, Base):
    __tablename__ = "order_refunds"
    __table_args__ = (
        # Per order: partners may number refunds per order (migration 0031). It serves the
        # order's reads of its refunds too.
        UniqueConstraint("tenant_id", "source", "source_id", "order_id", "refund_id", name="uq_order_refunds_order_refund"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    source: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    order_id: Mapped[str] = mapped_column(String(255), comment="The partner's order id: the order may not have arrived yet.")
    refund_id: Mapped[str] = mapped_column(String(255))
    refunded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list] = mapped_column(JSONB)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    adjustment_minor: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    delivery_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    settled: Mapped[bool] = mapped_column(
        Boolean, server_default="false", comment="Applied to its order's commission by settlement (crediting/settlement.py).")


class PartnerCancellation(TenantOwned, Base):
    """A cancellation message of the generic format (Shopify's come as the order itself, with
    `cancelled_at`): kept even when it arrives before its order."""

    __tablename__ = "order_cancellations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "source_id", "order_id", name="uq_order_cancellations_partner_order"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    source: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    order_id: Mapped[str] = mapped_column(String(255))
    cancelled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(255))
    delivery_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
