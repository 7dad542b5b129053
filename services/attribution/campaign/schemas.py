import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, field_validator

from shared.money import Currency, MinorAmount
from shared.validation import IsoDate, integral_number, label

Status = Literal["draft", "active", "paused", "ended"]
Precedence = Literal["code", "link", "recency"]
AttributionModel = Literal["last_touch", "first_touch", "linear", "time_decay", "position_based", "markov", "shapley"]
PRECEDENCE_TEXT = (
    "Which touch an order is credited to when it carries both: `code` (default) — an affiliate code used at checkout "
    "beats any link click; `link` — a click beats any code (for brands whose codes leak to coupon sites); `recency` — "
    "neither kind wins by itself, `attribution_model` decides. Applies to orders credited after the change; orders "
    "already credited keep their decision."
)
MODEL_TEXT = (
    "How an order's credit and commission are shared among the touches precedence leaves (those of the campaign "
    "of the touch last touch would pick): `last_touch` (default, the most recent takes all) or `first_touch` (the "
    "earliest takes all); or split among the creators on the path by `linear`, `time_decay`, `position_based`, or "
    "the data-driven `markov` (removal effect) and `shapley`, fitted over the campaign's paths of the last 90 days "
    "(docs/guide/attribution-models.md). A split commission sums to the order's commission to the minor unit. "
    "Applies to orders credited after the change; `POST /campaigns/{id}/attribution/recompute` re-credits earlier "
    "ones with adjustments in the ledger."
)
PARAMS_TEXT = (
    "The model's parameters, as `GET /campaigns/{id}/attribution` takes them: `time_decay` {half_life_days}, "
    "`position_based` {first, last}, `markov` {order}, `shapley` {value, exact_max, samples, seed}; the others take "
    "none. Omitted: the model's defaults. Changing `attribution_model` without them resets them to its defaults."
)


def _no_booleans(value: object) -> object:
    # `true` would pass as the Markov order 1: refused with its name, the model's own parser
    # (models/params.py) checking every other value.
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, bool):
                raise ValueError(f"{key}: a number or a decimal string, not a boolean")
    return value


Params = Annotated[dict[str, str | int | float], BeforeValidator(_no_booleans), Field(max_length=8, description=PARAMS_TEXT)]
NAME_LENGTH = 200


def _whole_minor_units(value: object) -> object:
    # A decimal string ("12500.50") is the old budget shape, and a fraction is not a minor unit:
    # both are refused saying what the field is, rather than pydantic's "not a valid integer".
    if isinstance(value, str):
        raise ValueError("an amount in minor units is a JSON integer, not a string: 1250050 for 12500.50 EUR, 1000 for 1000 JPY")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("an amount is a whole number of minor units (cents for EUR, yen for JPY)")
    return integral_number(value)


# Money at the API: an integer of the currency's minor units (shared.money), never a string or a
# fraction. Strict, so `true` is not 1; the BeforeValidator comes last so the bounds stay published.
MinorUnits = Annotated[MinorAmount, Strict(), BeforeValidator(_whole_minor_units)]

Name = label(min_length=1, max_length=NAME_LENGTH)
Budget = Annotated[
    MinorUnits,
    Field(
        description="In minor units of `currency` (ISO 4217 exponent: EUR 2, JPY 0, BHD 3): 1250050 EUR is 12,500.50 EUR.",
        examples=[1250050],
    ),
]


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    brand: Name
    starts_on: IsoDate
    ends_on: IsoDate = Field(description="On or after starts_on.")
    budget: Budget
    currency: Currency
    attribution_precedence: Precedence = Field(default="code", description=PRECEDENCE_TEXT)
    attribution_model: AttributionModel = Field(default="last_touch", description=MODEL_TEXT)
    attribution_params: Params = Field(default_factory=dict)


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
    attribution_precedence: Precedence = Field(default=None, description=PRECEDENCE_TEXT)
    attribution_model: AttributionModel = Field(default=None, description=MODEL_TEXT)
    attribution_params: Params = None

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
    budget: int = Field(description="In minor units of `currency`: 1250050 EUR is 12,500.50 EUR.", examples=[1250050])
    currency: str
    status: Status
    attribution_precedence: Precedence = Field(description=PRECEDENCE_TEXT)
    attribution_model: AttributionModel = Field(description=MODEL_TEXT)
    attribution_params: dict = Field(description="The model's parameters, its defaults filled in.")
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
            budget=campaign.budget_minor,
            currency=campaign.currency,
            status=campaign.status,
            attribution_precedence=campaign.attribution_precedence,
            attribution_model=campaign.attribution_model,
            attribution_params=campaign.attribution_params or {},
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
        )


class CampaignCost(BaseModel):
    """What a campaign costs so far, in minor units of its currency (never summed across currencies:
    every amount of a campaign is in its one currency)."""

    campaign_id: uuid.UUID
    currency: str
    enrolments: int = Field(description="Creators enrolled.")
    fees: int = Field(description="Sum of the enrolments' fees, in minor units.")
    product_value: int = Field(description="Sum of the value of products given (gifted or as part of a deal), in minor units.")
    commission: int = Field(
        description="Commission owed to the campaign's creators, from the commission ledger, in minor units. "
        "Commissions less clawbacks, whatever their state (pending, approved or paid)."
    )
    total: int = Field(description="fees + product_value + commission, in minor units.")
    budget: int = Field(description="The campaign's budget, in minor units.")
    budget_remaining: int = Field(description="budget - total; negative when the campaign is over budget.")
