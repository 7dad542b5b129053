"""Enrolment API models: a creator on a campaign, and the deal (what the brand gives, what the
creator delivers, and the right to run the creator's content as ads)."""

import json
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, field_validator, model_validator

from services.attribution.campaign.schemas import MinorUnits
from shared.contracts.types import Platform
from shared.validation import FieldError, IsoDate, integral_number

DealType = Literal["gifted", "paid", "affiliate", "hybrid"]
Format = Literal["post", "carousel", "reel", "story", "video", "short", "live", "pin", "article"]
Channel = Literal[
    "meta_ads", "tiktok_spark_ads", "youtube_partnership_ads", "pinterest_ads", "snapchat_ads", "x_ads", "linkedin_ads"
]
WhitelistingStatus = Literal["requested", "granted", "revoked", "expired"]

# What each platform publishes, by the names its own apps use (a reel on YouTube is a short).
FORMATS: dict[Platform, frozenset[str]] = {
    Platform.instagram: frozenset({"post", "carousel", "reel", "story", "live"}),
    Platform.tiktok: frozenset({"video", "carousel", "story", "live"}),
    Platform.youtube: frozenset({"video", "short", "live", "post"}),
    Platform.x: frozenset({"post", "video", "live"}),
    Platform.twitch: frozenset({"live", "video"}),
    Platform.facebook: frozenset({"post", "reel", "story", "video", "live"}),
    Platform.pinterest: frozenset({"pin", "video"}),
    Platform.snapchat: frozenset({"story", "video"}),
    Platform.linkedin: frozenset({"post", "article", "video", "live"}),
}
MAX_DELIVERABLES = 100
DEAL_DESCRIPTION = (
    "gifted: products only (product_value > 0, no fee); paid: a fee (> 0), products optional; "
    "affiliate: commission only (no fee), products optional; hybrid: a fee (> 0) and commission."
)

Count = Annotated[int, Strict(), Field(ge=1, le=10_000), BeforeValidator(integral_number)]
Fee = Annotated[MinorUnits, Field(description="In minor units of the campaign's currency: 150000 EUR is 1,500.00 EUR.", examples=[150000])]
ProductValue = Annotated[
    MinorUnits, Field(description="Value of the products given, in minor units of the campaign's currency.", examples=[8900])
]


def deal_problem(deal_type: str, fee: int, product_value: int) -> tuple[str, str] | None:
    """(field, reason) when the amounts do not fit the deal type, else None: the rules of
    docs/guide/attribution-campaigns.md, "Deals"."""
    if deal_type in ("paid", "hybrid") and fee <= 0:
        return "fee", f"a {deal_type} deal needs a fee above 0, in minor units of the campaign's currency"
    if deal_type == "affiliate" and fee != 0:
        return "fee", "an affiliate-only deal has no fee (commission only); make it hybrid to pay a fee as well"
    if deal_type == "gifted" and fee != 0:
        return "fee", "a gifted deal has no fee; make it paid to pay a fee"
    if deal_type == "gifted" and product_value <= 0:
        return "product_value", "a gifted deal needs the value of the products given, above 0, in minor units of the campaign's currency"
    return None


class Deliverable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    format: Format = Field(description="Must be one the platform publishes (a reel on Instagram or Facebook, a short on YouTube).")
    count: Count = Field(description="How many, at least 1.")
    due_on: IsoDate = Field(description="Inside the campaign: on or after its starts_on, on or before its ends_on.")

    @model_validator(mode="after")
    def _format_fits_platform(self) -> "Deliverable":
        if self.format not in FORMATS[self.platform]:
            choices = ", ".join(sorted(FORMATS[self.platform]))
            raise FieldError("format", f"{self.platform.value} has no {self.format}; one of {choices}")
        return self


class Whitelisting(BaseModel):
    """The brand's right to run the creator's content as ads from its own ad accounts."""

    model_config = ConfigDict(extra="forbid")

    channels: list[Channel] = Field(
        min_length=1, max_length=10, json_schema_extra={"uniqueItems": True}, description="Ad products the rights cover, each once."
    )
    starts_on: IsoDate
    ends_on: IsoDate = Field(description="On or after starts_on. May run past the campaign's end.")
    status: WhitelistingStatus = Field(default="requested", description="requested, granted, revoked or expired.")

    @model_validator(mode="after")
    def _consistent(self) -> "Whitelisting":
        if len(set(self.channels)) != len(self.channels):
            raise FieldError("channels", "names a channel twice")
        if self.ends_on < self.starts_on:
            raise FieldError("ends_on", f"must be on or after starts_on ({self.starts_on.isoformat()})")
        return self


Deliverables = Annotated[list[Deliverable], Field(max_length=MAX_DELIVERABLES)]


EXAMPLE = {
    "creator_id": "0b5e3d4c-2f6a-4e8b-9c1d-7a2b3c4d5e6f",
    "deal_type": "hybrid",
    "fee": 150000,
    "product_value": 8900,
    "deliverables": [
        {"platform": "instagram", "format": "reel", "count": 2, "due_on": "2027-03-10"},
        {"platform": "tiktok", "format": "video", "count": 1, "due_on": "2027-03-20"},
    ],
    "whitelisting": {"channels": ["meta_ads", "tiktok_spark_ads"], "starts_on": "2027-03-01", "ends_on": "2027-06-30",
                     "status": "requested"},
}


class EnrolmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    creator_id: uuid.UUID = Field(description="Discovery's creator id. Attribution holds no creator data: any UUID is accepted.")
    deal_type: DealType = Field(description=DEAL_DESCRIPTION)
    fee: Fee = 0
    product_value: ProductValue = 0
    deliverables: Deliverables = Field(default_factory=list)
    whitelisting: Whitelisting | None = Field(default=None, description="Ad rights asked or granted; null for none.")

    @model_validator(mode="after")
    def _amounts_fit_the_deal(self) -> "EnrolmentCreate":
        problem = deal_problem(self.deal_type, self.fee, self.product_value)
        if problem is not None:
            raise FieldError(*problem)
        return self


def _required_fields_have_no_default(schema: dict) -> None:
    for name in ("deal_type", "fee", "product_value", "deliverables"):
        schema["properties"][name].pop("default", None)


class EnrolmentUpdate(BaseModel):
    """Every field optional: the deal after the change must still hold together (the rules of
    `deal_type`). `whitelisting: null` withdraws the rights; the other fields cannot be null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_required_fields_have_no_default)

    deal_type: DealType = Field(default=None, description=DEAL_DESCRIPTION)
    fee: Fee = None
    product_value: ProductValue = None
    deliverables: Deliverables = None
    whitelisting: Whitelisting | None = None

    @field_validator("deal_type", "fee", "product_value", "deliverables", mode="before")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("cannot be cleared; omit the field to keep it")
        return value

    @model_validator(mode="after")
    def _amounts_fit_the_deal(self) -> "EnrolmentUpdate":
        # Only what the body contradicts by itself (the type and the amount it names, both sent);
        # a change that contradicts the stored deal is a 409 (enrolment/service.py).
        if self.deal_type is not None:
            problem = deal_problem(self.deal_type, self.fee or 0, self.product_value or 0)
            if problem is not None and problem[0] in self.model_fields_set:
                raise FieldError(*problem)
        return self


class EnrolmentRead(BaseModel):
    campaign_id: uuid.UUID
    creator_id: uuid.UUID
    deal_type: DealType
    fee: int = Field(description="In minor units of `currency`.")
    product_value: int = Field(description="In minor units of `currency`.")
    currency: str = Field(description="The campaign's currency.")
    deliverables: list[Deliverable]
    whitelisting: Whitelisting | None
    money_recorded: bool = Field(description="Money has been recorded against this enrolment: it can no longer be removed.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, enrolment, currency: str) -> "EnrolmentRead":
        return cls(
            campaign_id=enrolment.campaign_id,
            creator_id=enrolment.creator_id,
            deal_type=enrolment.deal_type,
            fee=enrolment.fee_minor,
            product_value=enrolment.product_value_minor,
            currency=currency,
            deliverables=_json(enrolment.deliverables),
            whitelisting=_json(enrolment.whitelisting),
            money_recorded=enrolment.money_recorded,
            created_at=enrolment.created_at,
            updated_at=enrolment.updated_at,
        )


def _json(value):
    # The ORM decodes JSONB; a ReadSession's raw fetch (shared.db.Reads) hands it over as text.
    return json.loads(value) if isinstance(value, str) else value
