import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from shared.validation import IsoDate, Label, PlainText

Status = Literal["draft", "active", "paused", "ended"]
NAME_LENGTH = 200


# Every current ISO 4217 code, from pycountry's copy of the standard's list (Debian iso-codes).
CURRENCY_CODES = sorted(c.alpha_3 for c in pycountry.currencies)


def _iso_4217(value: str) -> str:
    if pycountry.currencies.get(alpha_3=value) is None or value != value.upper():
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (upper case, e.g. EUR)")
    return value


# A string, never a JSON number: money is not a float. Up to 14 digits before the point and 4
# after (the column is NUMERIC(18, 4)), so a budget in any currency, minor units included.
BUDGET_PATTERN = "^[0-9]{1,14}([.][0-9]{1,4})?$"

Name = Annotated[Label, Field(min_length=1, max_length=NAME_LENGTH)]
Currency = Annotated[
    str,
    Field(description="ISO 4217 code, e.g. EUR.", json_schema_extra={"enum": CURRENCY_CODES}),
    AfterValidator(_iso_4217),
]
Budget = Annotated[
    str,
    Field(pattern=BUDGET_PATTERN, description="A decimal string, at least 0, e.g. \"12500.50\".", examples=["12500.50"]),
    AfterValidator(Decimal),
]


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    brand: Name
    starts_on: IsoDate
    ends_on: IsoDate = Field(description="On or after starts_on.")
    budget: Budget
    currency: Currency


def _required_fields_have_no_default(schema: dict) -> None:
    for name in ("name", "brand", "starts_on", "ends_on", "budget", "currency", "status"):
        schema["properties"][name].pop("default", None)


class CampaignUpdate(BaseModel):
    """Every field optional; none can be cleared (null is refused)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_required_fields_have_no_default)

    name: Name = None
    brand: Name = None
    starts_on: IsoDate = None
    ends_on: IsoDate = None
    budget: Budget = None
    currency: Currency = None
    status: Status = Field(
        default=None, description="draft → active; active ⇄ paused; active or paused → ended. Others are 409."
    )

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("cannot be cleared; omit the field to keep it")
        return value


class CampaignRead(BaseModel):
    id: uuid.UUID
    name: str
    brand: str
    starts_on: date
    ends_on: date
    budget: Decimal
    currency: str
    status: Status
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, campaign) -> "CampaignRead":
        return cls(
            id=campaign.id,
            name=campaign.name,
            brand=campaign.brand,
            starts_on=campaign.starts_on,
            ends_on=campaign.ends_on,
            budget=campaign.budget,
            currency=campaign.currency,
            status=campaign.status,
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
        )
