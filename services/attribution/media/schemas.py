"""The media report's API models. Every ratio is a `Metric`: a value, or null with the reason
(no denominator, currencies that differ, cost not split by platform). Money figures are minor
units of the currency they name; ratios in money are decimal text of minor units, to 2 places."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from services.attribution.ratecards.schemas import RateCardRef


class Metric(BaseModel):
    value: str | None = Field(description="Decimal text; null when it cannot be computed (see `reason`).")
    currency: str | None = Field(description="The currency of a money figure (minor units); null for a plain ratio or when null.")
    reason: str | None = Field(description="Why `value` is null; null when it is not.")


class Emv(BaseModel):
    amount: int = Field(description="Minor units of `currency`: each activation's latest snapshot figures x the rate card, rounded half-even per activation, then added.")
    currency: str = Field(description="The rate card's currency.")
    rate_card: RateCardRef
    unpriced: list[str] = Field(description="`platform.engagement` figures reported but absent from the rate card: valued at nothing.")


class Sales(BaseModel):
    currency: str
    orders: int = Field(description="Orders credited, cancelled ones included (as the campaign report counts them).")
    revenue: int = Field(description="Attributed revenue now, minor units (the campaign report's `revenue`).")


class Figures(BaseModel):
    activations: int
    with_snapshot: int = Field(description="Activations with at least one snapshot (the rest count nowhere below).")
    impressions: int = Field(description="Sum of the latest snapshots' impressions (those that report them).")
    views: int
    reach: int = Field(description="Sum of latest reach: audiences overlap between posts, so this overstates people reached.")
    engagements: int = Field(description="likes + comments + shares + saves of the latest snapshots (the ones reported).")
    missing: dict[str, int] = Field(description="Per figure (impressions, views, engagements), activations whose latest snapshot leaves it out.")


class MediaLine(BaseModel):
    figures: Figures
    cost: Metric = Field(description="fees + product value + net commission, minor units of the campaign's currency.")
    cpm: Metric = Field(description="cost x 1000 / impressions.")
    cpe: Metric = Field(description="cost / engagements.")
    cost_per_view: Metric = Field(description="cost / views.")
    emv: Emv
    emv_to_cost: Metric = Field(description="emv / cost, a plain ratio; null unless both are in one currency and cost > 0.")
    sales: list[Sales] | None = Field(description="Attributed orders and revenue per currency; null for a platform (orders carry none).")


class CreatorMedia(MediaLine):
    creator_id: uuid.UUID


class PlatformMedia(MediaLine):
    platform: str


class ActivationMedia(BaseModel):
    id: uuid.UUID
    creator_id: uuid.UUID
    platform: str
    format: str
    url: str
    observed_at: datetime | None = Field(description="Of the latest snapshot; null: none yet.")
    emv: int = Field(description="Minor units of the rate card's currency.")


class MediaReport(BaseModel):
    """A campaign's media figures from its activations' latest snapshots, next to its cost and its
    attributed sales."""

    campaign_id: uuid.UUID
    currency: str = Field(description="The campaign's currency (its cost).")
    rate_card: RateCardRef = Field(description="The rate card every EMV here was made with.")
    totals: MediaLine
    creators: list[CreatorMedia] = Field(description="Every creator with an activation or an enrolment, by creator id.")
    platforms: list[PlatformMedia] = Field(description="Every platform with an activation, by name. Cost is not split by platform: its ratios are null.")
    activations: list[ActivationMedia]
