"""Rate card API models. A rate is minor units of the card's currency per one unit of an
engagement type, as decimal text ("0.6" US cents per impression is a 6 USD CPM)."""

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.contracts.types import Platform
from shared.money import Currency
from shared.validation import Label

Engagement = Literal["impression", "view", "like", "comment", "share", "save"]
ENGAGEMENTS: tuple[str, ...] = ("impression", "view", "like", "comment", "share", "save")
# The snapshot figure each engagement type prices.
METRIC_OF = {"impression": "impressions", "view": "views", "like": "likes", "comment": "comments", "share": "shares",
             "save": "saves"}
MAX_RATE = Decimal(10**9)
MAX_PLACES = 6
# Decimal text below MAX_RATE with at most MAX_PLACES places: the rule parse_rate applies, published.
RATE_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,6})?$"
RATE_TEXT = "Minor units of `currency` per one unit, as decimal text with at most 6 places: \"0.6\" cents per impression."


def parse_rate(value: object) -> Decimal:
    if not isinstance(value, str):
        raise ValueError("a rate is decimal text, like \"0.6\": never a JSON number (binary floats are not money)")
    try:
        rate = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not rate.is_finite() or rate < 0 or rate > MAX_RATE:
        raise ValueError(f"must be from 0 to {MAX_RATE}")
    if -rate.as_tuple().exponent > MAX_PLACES:
        raise ValueError(f"at most {MAX_PLACES} decimal places")
    return rate


Rate = Annotated[str, Field(pattern=RATE_PATTERN, examples=["0.6"])]
# At least one engagement type per platform named: leave a platform out rather than list it empty.
PlatformRates = Annotated[dict[Engagement, Rate], Field(min_length=1)]


class RateCardCreate(BaseModel):
    """A new version of your rate card; earlier versions stay as they were. An engagement type a
    platform's rates leave out is not priced (an EMV lists what it could not price)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "currency": "EUR", "source": "Our agency's 2027 media plan",
        "rates": {"instagram": {"impression": "0.55", "view": "1.2", "like": "7", "comment": "35", "share": "35", "save": "35"}}}]})

    currency: Currency
    source: Label = Field(min_length=1, max_length=2000, description="Where the rates come from: stated beside every EMV made with them.")
    rates: dict[Platform, PlatformRates] = Field(min_length=1, description=RATE_TEXT)

    @field_validator("rates")
    @classmethod
    def _rates(cls, value: dict) -> dict:
        for platform, rates in value.items():
            for engagement, rate in rates.items():
                try:
                    parse_rate(rate)
                except ValueError as exc:
                    raise ValueError(f"{platform.value}.{engagement}: {exc}") from None
        return value


class RateCardRef(BaseModel):
    """Which rate card a figure was made with."""

    id: str = Field(description="`limelight-default` for the built-in card, else the version's id.")
    version: int
    currency: str
    source: str


class RateCardRead(BaseModel):
    id: str
    version: int = Field(description="1, 2, ... per tenant (or the built-in card's own version); the highest of yours is used.")
    builtin: bool = Field(description="The built-in default, used until you create a version of your own.")
    currency: str
    source: str
    assumptions: list[str] = Field(default_factory=list, description="The built-in card's stated assumptions (empty for yours).")
    rates: dict[str, dict[str, str]] = Field(description=RATE_TEXT)
    created_at: datetime | None = Field(description="Null for the built-in card.")

    def ref(self) -> RateCardRef:
        return RateCardRef(id=self.id, version=self.version, currency=self.currency, source=self.source)


def rates_of(card: RateCardRead) -> dict[str, dict[str, Decimal]]:
    return {platform: {e: Decimal(rate) for e, rate in rates.items()} for platform, rates in card.rates.items()}


def read_of(card) -> RateCardRead:
    # The ORM decodes JSONB; a ReadSession's raw fetch (shared.db.Reads) hands it over as text.
    rates = json.loads(card.rates) if isinstance(card.rates, str) else card.rates
    return RateCardRead(id=str(card.id), version=card.version, builtin=False, currency=card.currency, source=card.source,
                        rates=rates, created_at=card.created_at)

