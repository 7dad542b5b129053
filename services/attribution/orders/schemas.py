import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.attribution.orders.models import NO_SOURCE, PartnerOrder, PartnerRefund

State = Literal["open", "cancelled"]


class OrderLineRead(BaseModel):
    line_id: str
    product_id: str | None
    variant_id: str | None
    sku: str | None
    title: str | None
    collections: list[str]
    quantity: int
    unit_price_minor: int
    discount_minor: int
    tax_minor: int
    price_includes_tax: bool
    gift_card: bool = Field(default=False, description="A gift card sold (money paid in advance).")


class RefundRead(BaseModel):
    refund_id: str
    refunded_at: datetime
    currency: str
    lines: list[dict] = Field(description="line_id, quantity, subtotal_minor, tax_minor of each refunded line.")
    shipping_minor: int
    adjustment_minor: int = Field(description="Money returned that no line or shipping explains (positive: to the customer).")
    note: str | None

    @classmethod
    def of(cls, row: PartnerRefund) -> "RefundRead":
        return cls(refund_id=row.refund_id, refunded_at=row.refunded_at, currency=row.currency, lines=row.lines,
                   shipping_minor=row.shipping_minor, adjustment_minor=row.adjustment_minor, note=row.note)


class CreditRead(BaseModel):
    outcome: Literal["credited", "unattributed"]
    creator_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    touch: str | None = Field(description="What earned it: `code MAYA15` or `link <slug>`.")
    explanation: str = Field(description="Every candidate touch and why it won or lost.")
    commission_minor: int = Field(description="The commission before refunds, in the campaign currency's minor units.")
    currency: str | None
    commission_explanation: str = Field(description="How the rule in force computed it, step by step.")
    revenue_in_window_minor: int = Field(
        description="The rule's input for tiers: the creator's attributed revenue (credited orders' basis) over the "
        "rule's window — its `window_days` whole UTC days before this order's day — when the order was credited.")
    new_customer: bool = Field(description="The rule's input for first/repeat rates: no earlier order by this customer.")
    earned_in_period_minor: int = Field(
        description="The rule's input for the monthly cap: what the creator was credited in the campaign for orders "
        "placed in the order's calendar month (UTC), before this one was credited.")

    @classmethod
    def of(cls, row) -> "CreditRead":
        touch = None if row.touch_kind is None else f"{'code' if row.touch_kind == 'code' else 'link'} {row.touch_label}"
        return cls(outcome=row.outcome, creator_id=row.creator_id, campaign_id=row.campaign_id, touch=touch,
                   explanation=row.explanation, commission_minor=row.commission_minor, currency=row.currency,
                   commission_explanation=row.commission_explanation, revenue_in_window_minor=row.revenue_in_window_minor,
                   new_customer=row.new_customer, earned_in_period_minor=row.earned_in_period_minor)


class OrderSummary(BaseModel):
    id: uuid.UUID
    source: Literal["shopify", "generic"]
    source_id: uuid.UUID | None = Field(description="The webhook source it came through (null: not recorded).")
    partner_order_id: str = Field(description="The partner's own id of the order (Shopify's order id).")
    placed_at: datetime
    currency: str
    total_minor: int | None = Field(description="The order total as the partner sent it, in minor units.")
    basis_minor: int = Field(description="The commission basis now (after refunds; 0 once cancelled), in minor units.")
    state: State
    codes: list[str]
    click_ids: list[str]
    test: bool
    shipping_country: str | None = Field(description="ISO 3166-1 alpha-2 country it ships to (null: not sent).")
    shipping_region: str | None = Field(description="ISO 3166-2 region it ships to, `US-CA` (null: not sent).")

    @classmethod
    def fields_of(cls, row: PartnerOrder) -> dict:
        return dict(id=row.id, source=row.source, source_id=None if row.source_id == NO_SOURCE else row.source_id,
                    partner_order_id=row.order_id, placed_at=row.placed_at, currency=row.currency, total_minor=row.total_minor,
                    basis_minor=row.basis_minor, state=row.state, codes=row.codes, click_ids=row.click_ids, test=row.test,
                    shipping_country=row.shipping_country, shipping_region=row.shipping_region)

    @classmethod
    def of(cls, row: PartnerOrder) -> "OrderSummary":
        return cls(**cls.fields_of(row))


class OrderRead(OrderSummary):
    customer_key: str | None = Field(description="A keyed hash of the customer (never the e-mail or the partner's id).")
    lines: list[OrderLineRead]
    subtotal_minor: int | None
    discounts_minor: int | None
    tax_minor: int | None
    shipping_minor: int | None
    taxes_included: bool
    financial_status: str | None
    landing_site: str | None
    referring_site: str | None
    cancelled_at: datetime | None
    basis_before_refunds_minor: int
    basis_explanation: str = Field(description="How the basis was computed, in words, amounts included.")
    basis_rules: int = Field(description=(
        "The basis rules the order is computed under, stamped when it was first stored and kept: 1 (orders stored "
        "before 2026-11-29) takes money a refund returns that no line explains off the basis only; 2 also takes it "
        "off the lines' commission, and leaves gift cards sold out of the basis."))
    notes: list[str] = Field(description="Where the partner's totals did not add up (kept as sent), and what of the "
                             "message was not kept: a shipping place that is not a code, a code, click id, SKU or "
                             "collection that can match nothing (holding NUL, or over 255 characters).")
    refunds: list[RefundRead]
    credit: CreditRead | None = Field(description="Who earned the order and its commission (null: not decided yet).")
    received_at: datetime
    updated_at: datetime

    @classmethod
    def of_with(cls, row: PartnerOrder, refunds: list[PartnerRefund], credit=None) -> "OrderRead":
        return cls(**cls.fields_of(row), customer_key=row.customer_key, lines=[OrderLineRead(**line) for line in row.lines],
                   subtotal_minor=row.subtotal_minor, discounts_minor=row.discounts_minor, tax_minor=row.tax_minor,
                   shipping_minor=row.shipping_minor, taxes_included=row.taxes_included,
                   financial_status=row.financial_status, landing_site=row.landing_site,
                   referring_site=row.referring_site, cancelled_at=row.cancelled_at,
                   basis_before_refunds_minor=row.basis_before_refunds_minor, basis_explanation=row.basis_explanation,
                   basis_rules=row.basis_rules, notes=row.notes, refunds=[RefundRead.of(r) for r in refunds],
                   credit=CreditRead.of(credit) if credit is not None else None, received_at=row.received_at,
                   updated_at=row.updated_at)
