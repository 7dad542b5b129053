"""The reports' running totals (migration 0022, ADR 0051): kept by PostgreSQL triggers on orders,
order_credits, ledger_entries and clicks, never written by the service's code. `ReportDelta` holds
writes' effects not yet folded into `ReportTotal` (attribution.report_compact(), run by
ReportTotalsWorker); a report reads both in one statement."""

import uuid
from datetime import date

from sqlalchemy import BigInteger, Date, Identity, Index, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned

FIGURES = ("orders", "cancelled_orders", "orders_from_clicks", "revenue", "revenue_before_refunds", "commission_pending",
           "commission_approved", "commission_paid", "clawbacks", "clicks_total", "clicks_unique", "clicks_flagged")


PLATFORM = ("The touch's code's or link's platform ('unspecified' when not said); '' for a ledger entry whose order is "
            "not credited to its campaign.")
DAY = ("The UTC day the order was placed or the click made; -infinity for a ledger entry whose order is not credited "
       "to its campaign (counted only in undated figures).")
CURRENCY = "ISO 4217; '' on clicks."


class _Figures:
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    platform: Mapped[str] = mapped_column(String(20), comment=PLATFORM)
    day: Mapped[date] = mapped_column(Date, comment=DAY)
    currency: Mapped[str] = mapped_column(String(3), comment=CURRENCY)
    orders: Mapped[int] = mapped_column(BigInteger, server_default="0")
    cancelled_orders: Mapped[int] = mapped_column(BigInteger, server_default="0")
    orders_from_clicks: Mapped[int] = mapped_column(BigInteger, server_default="0")
    revenue: Mapped[int] = mapped_column(BigInteger, server_default="0")
    revenue_before_refunds: Mapped[int] = mapped_column(BigInteger, server_default="0")
    commission_pending: Mapped[int] = mapped_column(BigInteger, server_default="0")
    commission_approved: Mapped[int] = mapped_column(BigInteger, server_default="0")
    commission_paid: Mapped[int] = mapped_column(BigInteger, server_default="0")
    clawbacks: Mapped[int] = mapped_column(BigInteger, server_default="0")
    clicks_total: Mapped[int] = mapped_column(BigInteger, server_default="0")
    clicks_unique: Mapped[int] = mapped_column(BigInteger, server_default="0")
    clicks_flagged: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ReportTotal(TenantOwned, _Figures, Base):
    __tablename__ = "report_totals"
    __table_args__ = (
        Index("ix_attribution_report_totals_tenant_id_creator_id", "tenant_id", "creator_id"),
        {"comment": "The reports' figures per campaign, creator, platform, UTC day and currency (ADR 0051)."},
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, comment="The tenant that owns the row; filtered on by shared.tenancy.")
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True, comment=PLATFORM)
    day: Mapped[date] = mapped_column(Date, primary_key=True, comment=DAY)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True, comment=CURRENCY)


class ReportDelta(TenantOwned, _Figures, Base):
    __tablename__ = "report_deltas"
    __table_args__ = (
        Index("ix_attribution_report_deltas_tenant_id_campaign_id", "tenant_id", "campaign_id"),
        Index("ix_attribution_report_deltas_tenant_id_creator_id", "tenant_id", "creator_id"),
        {"comment": "Writes' effects on report_totals not folded in yet (attribution.report_compact())."},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
