"""The reports' API models. Money is integer minor units of the row's `currency`, one row per
currency: amounts in different currencies are never added together."""

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.attribution.campaign.schemas import CampaignCost
from shared.validation import DateTimeText, FieldError

# A report's period is written out: never seconds since 1970 (shared.validation.datetime_text).
Instant = DateTimeText


class Period(BaseModel):
    """The query of both reports: an optional half-open period [from, to)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Instant | None = Field(default=None, alias="from", description="Only orders placed and clicks made at or after this time.")
    to: Instant | None = Field(default=None, description="Only orders placed and clicks made before this time; after `from`.")

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        for name, field in (("from_", "from"), ("to", "to")):
            value = getattr(self, name)
            try:
                setattr(self, name, None if value is None else value.astimezone(UTC))
            except OverflowError:  # 0001-01-01T00:00:00+05:00 is a date-time, but not one in UTC
                raise FieldError(field, "is outside the years 1 to 9999 once in UTC") from None
        if self.from_ is not None and self.to is not None and self.to <= self.from_:
            raise FieldError("to", f"must be after from ({self.from_.isoformat()})")
        return self


class Clicks(BaseModel):
    total: int = Field(description="Every click on the tracked links, flagged ones included.")
    unique: int = Field(description="Clicks not flagged and not a repeat by the same visitor on the same link within 30 minutes.")
    flagged: int = Field(description="Bots, link-preview fetchers and HEAD requests: recorded, never credited.")


class Money(BaseModel):
    """The credited orders and the ledger of one currency."""

    currency: str = Field(description="ISO 4217 code: every amount of this row is in its minor units.")
    orders: int = Field(description="Orders credited (to the campaign, or the creator) placed in the period, cancelled ones included.")
    cancelled_orders: int = Field(description="Of `orders`, those cancelled since.")
    revenue: int = Field(
        description="The credited orders' commission basis now: line items less discounts, less what was refunded "
        "(per the order's basis, tax and shipping excluded); 0 for a cancelled order."
    )
    revenue_before_refunds: int = Field(description="The same basis before any refund or cancellation.")
    commission_pending: int = Field(description="Commission entries (> 0) still in their holding period.")
    commission_approved: int = Field(description="Commission entries (> 0) approved, not paid yet.")
    commission_paid: int = Field(description="Commission entries (> 0) paid out.")
    clawbacks: int = Field(description="Clawback entries (<= 0) from refunds and cancellations, whatever their state.")
    net_commission: int = Field(description="commission_pending + commission_approved + commission_paid + clawbacks.")


class CreatorCost(BaseModel):
    """What one creator costs a campaign so far, as GET /campaigns/{id}/cost counts a campaign, in
    minor units of the campaign's currency. Not limited by `from`/`to`: fees and products are not dated."""

    currency: str
    fees: int = Field(description="The enrolment's fee (0 when not enrolled).")
    product_value: int = Field(description="The value of the products given under the enrolment (0 when not enrolled).")
    commission: int = Field(description="The creator's net commission in the campaign, in the campaign's currency, whatever its state.")
    total: int = Field(description="fees + product_value + commission.")


class CreatorLine(BaseModel):
    creator_id: uuid.UUID
    enrolled: bool = Field(description="Whether the creator is enrolled in the campaign now.")
    clicks: Clicks
    money: list[Money] = Field(description="One row per currency of the creator's credited orders and ledger entries.")
    cost: CreatorCost


class CampaignReport(BaseModel):
    """One campaign's figures: clicks, credited orders, revenue and commission per currency, its
    cost, and the same per creator."""

    campaign_id: uuid.UUID
    currency: str = Field(description="The campaign's currency (its cost, budget and commission rules).")
    from_: datetime | None = Field(alias="from", description="Orders placed and clicks made at or after this time.")
    to: datetime | None = Field(description="Orders placed and clicks made before this time.")
    clicks: Clicks
    money: list[Money] = Field(description="One row per currency, by currency code.")
    cost: CampaignCost = Field(description="As GET /v1/attribution/campaigns/{campaign_id}/cost: the campaign so far, whatever from/to say.")
    creators: list[CreatorLine] = Field(
        description="Every enrolled creator, and every creator with clicks, credited orders or ledger entries in the "
        "campaign (enrolled or not), by creator id."
    )

    model_config = {"populate_by_name": True}


class CampaignLine(BaseModel):
    campaign_id: uuid.UUID
    name: str
    currency: str = Field(description="The campaign's currency.")
    enrolled: bool = Field(description="Whether the creator is enrolled in this campaign now.")
    clicks: Clicks
    money: list[Money]
    cost: CreatorCost = Field(description="What the creator costs this campaign so far, in its currency.")


class CreatorReport(BaseModel):
    """One creator across your campaigns: totals per currency, and each campaign's figures."""

    creator_id: uuid.UUID
    from_: datetime | None = Field(alias="from", description="Orders placed and clicks made at or after this time.")
    to: datetime | None = Field(description="Orders placed and clicks made before this time.")
    clicks: Clicks
    money: list[Money] = Field(description="The campaigns' rows added up per currency, by currency code.")
    cost: list[CreatorCost] = Field(description="The campaigns' costs added up per currency (each campaign's own), by currency code.")
    campaigns: list[CampaignLine] = Field(description="Every campaign the creator is enrolled in or has figures in, by campaign id.")

    model_config = {"populate_by_name": True}


class LineMoney(BaseModel):
    """One currency of one line. Money in minor units; ratios as decimal strings (4 places)."""

    currency: str
    orders: int = Field(description="Orders credited (led by the line's creator, shared on its platform, placed on its day), cancelled ones included.")
    cancelled_orders: int
    orders_from_clicks: int = Field(description="Of `orders`, those a link click led (the others came by code).")
    revenue: int = Field(description="Their commission basis now (after refunds; 0 once cancelled).")
    revenue_before_refunds: int
    aov: int | None = Field(description="Average order value: revenue / orders not cancelled, minor units.")
    conversion_rate: str | None = Field(description="orders_from_clicks / unique clicks of the line.")
    commission_pending: int
    commission_approved: int
    commission_paid: int
    clawbacks: int
    net_commission: int
    cost_fees: int | None = Field(description="Fees (by platform: spread over the deals' deliverables by count); 0 by day.")
    cost_product_value: int | None = Field(description="Products given, spread as the fees are.")
    cost_commission: int | None = Field(description="The line's net commission.")
    cost_total: int | None
    cpa: int | None = Field(description="Cost per acquisition: cost_total / orders not cancelled, minor units.")
    roas: str | None = Field(description="Return on ad spend: revenue / cost_total.")
    roi: str | None = Field(description="(revenue - cost_total) / cost_total.")
    unavailable: dict[str, str] = Field(description="Why a figure is null (or how it is limited), by figure.")


class Line(BaseModel):
    key: str = Field(description="The creator id, the platform (`unspecified` when the code or link did not say), or the UTC day.")
    clicks: Clicks
    money: list[LineMoney]


class FxRateUsed(BaseModel):
    base: str
    quote: str
    on: str
    rate: str
    inverted: bool = Field(description="The rate was given the other way round (quote/base) and used as 1/rate.")


class LinesReport(BaseModel):
    campaign_id: uuid.UUID
    by: str
    campaign_currency: str = Field(description="The currency of the campaign's cost.")
    currency: str | None = Field(description="The currency every amount was converted to; null: a row per currency.")
    from_: datetime | None = Field(alias="from")
    to: datetime | None
    fx_rates_used: list[FxRateUsed]
    notes: list[str] = Field(description="What the report could not show, and why (a period with no data says so).")
    lines: list[Line]
    next_cursor: str | None

    model_config = {"populate_by_name": True}
