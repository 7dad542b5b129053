"""The credit decision of an order, taken once when the order is first stored and kept: who
earned it, under which rule version, with which inputs, and why — so recomputing after a refund
uses the same decision and the ledger sees the same figures on every replay."""

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Integer,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.attribution.db import Base
from shared.tenancy import TenantOwned


class OrderCredit(TenantOwned, Base):
    __tablename__ = "order_credits"
    __table_args__ = (
        UniqueConstraint("order_ref", name="uq_order_credits_order_ref"),
        CheckConstraint("outcome IN ('credited', 'unattributed')", name="outcome_known"),
        # The reports (reports/repository.py): a campaign's credited orders by creator, a creator's by campaign.
        Index(
            "ix_attribution_order_credits_tenant_id_campaign_id_creator_id", "tenant_id", "campaign_id", "creator_id",
            postgresql_include=["order_ref"], postgresql_where=text("outcome = 'credited'"),
        ),
        Index(
            "ix_attribution_order_credits_tenant_id_creator_id_campaign_id", "tenant_id", "creator_id", "campaign_id",
            postgresql_include=["order_ref"], postgresql_where=text("outcome = 'credited'"),
        ),
        # The leaked-code rule reads code_hour_totals and code_minute_totals, never the decisions
        # (docs/decisions/0064): no index here for it.
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    order_ref: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("orders.id"), comment="attribution.orders.id")
    outcome: Mapped[str] = mapped_column(String(20))
    creator_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    touch_kind: Mapped[str | None] = mapped_column(String(10), comment="code or click")
    touch_label: Mapped[str | None] = mapped_column(String(255), comment="The code as typed, or the link's slug.")
    code_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    explanation: Mapped[str] = mapped_column(Text, comment="Every candidate touch and why it won or lost.")
    rule_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), comment="The rule version in force when placed.")
    revenue_in_window_minor: Mapped[int] = mapped_column(BigInteger, server_default="0")
    new_customer: Mapped[bool] = mapped_column(Boolean, server_default="true")
    earned_in_period_minor: Mapped[int] = mapped_column(BigInteger, server_default="0")
    currency: Mapped[str | None] = mapped_column(String(3))
    commission_minor: Mapped[int] = mapped_column(BigInteger, server_default="0", comment="Before refunds.")
    commission_explanation: Mapped[str] = mapped_column(Text, server_default="")
    revenue_counted_minor: Mapped[int] = mapped_column(
        BigInteger, server_default="0", comment="What the order adds to its creator's day total now (creator_day_totals).")
    placed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="The order's time when it was credited: its rule, window and hold are from it.")
    counted_on: Mapped[date | None] = mapped_column(
        Date, comment="The UTC day whose total counts the order (its day when credited); null: not counted yet.")
    attribution_model: Mapped[str] = mapped_column(
        String(20), server_default="last_touch", comment="The model that chose the touch (the campaign's setting then).")
    shipping_country: Mapped[str | None] = mapped_column(
        String(2), comment="The order's shipping country when it was credited (the leaked-code rule's spread).")
    without_creator_click: Mapped[bool | None] = mapped_column(
        Boolean, comment="Credited carrying no click of the creator's (the leaked-code rule's share); null: not credited.")
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CreditShare(TenantOwned, Base):
    """One creator's share of a credited order under a multi-touch model, and its part of the
    order's commission: revision 1 when the order was credited, and one more revision per
    re-computation (the earlier ones are kept: the ledger's adjustments point back to them).
    Orders credited whole by last or first touch have no rows here (their share is 1)."""

    __tablename__ = "credit_shares"
    __table_args__ = (
        UniqueConstraint("order_ref", "revision", "creator_id"),
        Index("ix_attribution_credit_shares_tenant_id_campaign_id", "tenant_id", "campaign_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    order_ref: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("orders.id"), comment="attribution.orders.id")
    revision: Mapped[int] = mapped_column(Integer, comment="1 when the order was credited; each re-computation adds the next.")
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    share: Mapped[str] = mapped_column(Text, comment="The exact fraction, \"1/3\" (time decay's run to 80 digits).")
    commission_minor: Mapped[int] = mapped_column(
        BigInteger, comment="The creator's part of the order's commission before refunds, minor units.")
    line_key: Mapped[str] = mapped_column(String(255), comment="The creator's commission line in the ledger.")
    model: Mapped[str] = mapped_column(String(20))
    model_version: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSONB)
    basis: Mapped[str] = mapped_column(Text, comment="How the shares were computed (the fit, or the rule).")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CreatorDayTotal(TenantOwned, Base):
    """A creator's credited orders per UTC day, campaign and currency, kept as each order is
    credited (and its basis moves with refunds and cancellation): what the commission rules'
    inputs are read from, so crediting an order costs the days of a window, not the creator's
    whole history."""

    __tablename__ = "creator_day_totals"

    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, comment="The UTC day the orders were placed.")
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    orders: Mapped[int] = mapped_column(BigInteger, server_default="0", comment="Credited orders.")
    revenue_minor: Mapped[int] = mapped_column(
        BigInteger, server_default="0", comment="Their commission basis now (after refunds; 0 once cancelled).")
    commission_minor: Mapped[int] = mapped_column(
        BigInteger, server_default="0", comment="Their commission as credited (before refunds): the cap's measure.")


class PerformanceDue(Base):
    """Creators whose sales record changed since it was last published: the performance worker
    publishes one `attribution.performance.v1` per row and deletes it in the same transaction.
    Installation-wide (the record is), so not tenant-owned; it holds no tenant data."""

    __tablename__ = "performance_due"

    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default="1", comment="Bumped by each change noted.")
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class _CodeCounts:
    """The columns code_hour_totals and code_minute_totals share: a campaign's credited orders per
    creator, code and shipping country (each table adds its span of time, between code and country
    in the key)."""

    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, sort_order=-5)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, sort_order=-4)
    code_key: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, sort_order=-3,
        comment="The code credited (codes.id); the nil UUID: credited to a click.")
    country: Mapped[str] = mapped_column(String(2), primary_key=True, sort_order=-1,
                                         comment="Shipping country; '' when none.")
    orders: Mapped[int] = mapped_column(BigInteger, server_default="0", comment="Credited orders.")
    without_click: Mapped[int] = mapped_column(
        BigInteger, server_default="0", comment="... of which carried no click of the creator's.")
    new_customers: Mapped[int] = mapped_column(
        BigInteger, server_default="0", comment="... of which by customers new to the brand.")


class CodeHourTotal(_CodeCounts, TenantOwned, Base):
    """A campaign's credited orders per creator, code and UTC hour of placement, and per shipping
    country, kept as each order is credited: what the leaked-code rule reads (fraud/service.py),
    so judging an order costs the hours of its lookback, not the code's or the campaign's whole
    history. The counts are of the decision (its time, country and whether it carried a click of
    the creator's), which is never changed afterwards."""

    __tablename__ = "code_hour_totals"
    __table_args__ = (
        Index("ix_attribution_code_hour_totals_campaign_id_hour", "campaign_id", "hour"),
    )

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True, sort_order=-2,
                                           comment="The UTC hour placed.")


class CodeMinuteTotal(_CodeCounts, TenantOwned, Base):
    """The same counts per UTC minute of placement: what the leaked-code rule reads for the hour
    an order is placed in and the hour before it (its velocity window), so judging an order costs
    at most the minutes of two hours, however many orders they hold (docs/decisions/0064)."""

    __tablename__ = "code_minute_totals"
    __table_args__ = (
        Index("ix_attribution_code_minute_totals_campaign_id_minute", "campaign_id", "minute"),
        Index("ix_attribution_code_minute_totals_code_key_minute", "code_key", "minute"),  # the velocity window
    )

    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True, sort_order=-2,
                                             comment="The UTC minute placed.")
