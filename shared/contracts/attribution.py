"""Contracts produced by attribution (topics attribution.click.v1, .conversion.v1, .performance.v1).

Money is integer minor units with an ISO 4217 currency code, never floats.
"""

import uuid

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
