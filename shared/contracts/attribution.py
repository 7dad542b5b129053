"""Contracts produced by attribution (topics attribution.click.v1, .conversion.v1, .performance.v1,
.campaign.v1: campaigns and their enrolments).

Money is integer minor units, or a decimal string (a campaign budget), with an ISO 4217 currency
code; never floats.
"""

import uuid
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

Currency = str  # ISO 4217, validated by the pattern on each field


class ClickRecorded(BaseModel):
    click_id: uuid.UUID
    slug: str = Field(description="Tracked link slug that was clicked.")
    link_id: uuid.UUID
    campaign_id: uuid.UUID | None = None
    creator_id: uuid.UUID | None = None
    clicked_at: AwareDatetime
    landing_url: str
    referrer: str | None = None
    user_agent: str | None = None
    ip_hash: str | None = Field(default=None, description="Salted hash of the client IP; never the IP itself.")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2, when a CDN in front said it.")
    flagged: bool = Field(default=False, description="A bot, a link-preview fetcher or a HEAD request: never credited.")
    flag_reason: str | None = None
    unique: bool = Field(default=True, description="False for a flagged click and for a repeat by the same visitor within 30 minutes.")


class ConversionPayload(BaseModel):
    order_id: str = Field(description="Partner's order id.")
    partner_id: str
    campaign_id: uuid.UUID
    creator_id: uuid.UUID
    attribution_model: str = Field(description="e.g. last_touch, first_touch, linear, time_decay.")
    credit_share: str = Field(description="Decimal share of the order credited to this creator, 0-1.")
    order_total_minor: int
    commission_minor: int
    currency: Currency = Field(pattern=r"^[A-Z]{3}$")
    occurred_at: AwareDatetime


class CreatorPerformanceUpdated(BaseModel):
    creator_id: uuid.UUID
    clicks: int = Field(ge=0)
    orders: int = Field(ge=0)
    revenue_minor: int
    commission_minor: int
    currency: Currency = Field(pattern=r"^[A-Z]{3}$")
    as_of: AwareDatetime


CampaignStatus = Literal["draft", "active", "paused", "ended"]


class CampaignPayload(BaseModel):
    """A campaign as it stands after the change (topic attribution.campaign.v1). Tenant-private:
    the envelope's tenant_id names its owner, and a consumer keeps it on whatever it derives."""

    campaign_id: uuid.UUID
    name: str
    brand: str
    starts_on: date
    ends_on: date
    budget: Decimal = Field(
        ge=0, description="In `currency`, as a decimal string (never a float); the same amount as budget_minor."
    )
    currency: Currency = Field(pattern=r"^[A-Z]{3}$")
    status: CampaignStatus
    changed_fields: list[str] = Field(default_factory=list, description="Fields changed by this event.")
    budget_minor: int | None = Field(
        default=None,
        ge=0,
        description="The budget in minor units of `currency` (ISO 4217 exponent: 1250050 EUR is 12500.50). "
        "Absent only from events published before it was added.",
    )


DealType = Literal["gifted", "paid", "affiliate", "hybrid"]


class DeliverablePayload(BaseModel):
    platform: str = Field(description="A discovery platform (instagram, tiktok, youtube, ...).")
    format: str = Field(description="post, carousel, reel, story, video, short, live, pin or article.")
    count: int = Field(ge=1)
    due_on: date


class WhitelistingPayload(BaseModel):
    channels: list[str] = Field(description="Ad products the rights cover: meta_ads, tiktok_spark_ads, ...")
    starts_on: date
    ends_on: date
    status: Literal["requested", "granted", "revoked", "expired"]


class EnrolmentPayload(BaseModel):
    """A creator's enrolment in a campaign and its deal, as it stands after the change
    (CreatorEnrolled, DealChanged) or as it stood when removed (CreatorUnenrolled). Same topic
    and key (the campaign id) as the campaign's own events, so a consumer sees a campaign and its
    creators in order. Tenant-private: the envelope's tenant_id names the owner."""

    campaign_id: uuid.UUID
    creator_id: uuid.UUID = Field(description="Discovery's creator id.")
    deal_type: DealType
    fee_minor: int = Field(ge=0, description="In minor units of `currency`.")
    product_value_minor: int = Field(ge=0, description="Value of the products given, in minor units of `currency`.")
    currency: Currency = Field(pattern=r"^[A-Z]{3}$", description="The campaign's currency.")
    deliverables: list[DeliverablePayload] = Field(default_factory=list)
    whitelisting: WhitelistingPayload | None = None
    changed_fields: list[str] = Field(default_factory=list, description="Fields changed by this event.")
