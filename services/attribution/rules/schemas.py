"""Commission rule API models: a new version of a campaign's rule or of a creator's override, and
a version as read. Amounts in minor units of the campaign's currency; percentages as decimal
strings ("12.5"), exact, 0 to 100 with up to 4 places."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator

from services.attribution.campaign.schemas import MinorUnits
from services.attribution.rules.models import CommissionRule
from services.attribution.rules.terms import DEFAULT_HOLDING_DAYS, DEFAULT_WINDOW_DAYS
from shared.money import Currency
from shared.validation import DateTimeText, FieldError, PlainText, integral_number

MAX_TIERS = 20
MAX_PRODUCT_RATES = 500
PERCENT_PATTERN = r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$"


def _percent(value: str) -> Decimal:
    return Decimal(value)


# A decimal string, never a JSON number (a float cannot say 12.1 exactly).
Percent = Annotated[
    str,
    Strict(),
    Field(pattern=PERCENT_PATTERN, description="A percentage as a decimal string, 0 to 100, up to 4 places: \"12.5\".",
          examples=["10"]),
    AfterValidator(_percent),
]
Days = Annotated[int, Strict(), Field(ge=0, le=365), BeforeValidator(integral_number)]
WindowDays = Annotated[int, Strict(), Field(ge=1, le=365), BeforeValidator(integral_number)]
MatchValue = Annotated[PlainText, Field(min_length=1, max_length=255)]
Amount = Annotated[MinorUnits, Field(description="In minor units of the campaign's currency: 100000 EUR is 1,000.00 EUR.")]


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    above: Amount = Field(description="The tier applies when the creator's attributed revenue in the window is above this.")
    percent: Percent


class ProductRate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: Literal["variant", "product", "sku", "collection"] = Field(
        description="What of a line item `value` is matched against. Most specific wins: variant > product > sku > collection."
    )
    value: MatchValue = Field(description="The partner's variant id, product id, SKU or collection handle, as the order carries it.")
    percent: Percent


EXAMPLE = {
    "percent": "10",
    "tiers": [{"above": 100000, "percent": "12"}],
    "window_days": 30,
    "cap_per_order": 5000,
    "holding_days": 30,
}


class RuleCreate(BaseModel):
    """A new version. Every field not given takes its default: a version is whole, never a patch."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    effective_from: DateTimeText | None = Field(
        default=None,
        description="When the version takes effect (orders placed from then on); after the scope's latest version's. Default: now.",
    )
    currency: Currency | None = Field(default=None, description="Optional: when given, must be the campaign's currency.")
    percent: Percent | None = Field(default=None, description="Of the commission basis; with tiers, the rate up to the first tier.")
    flat: Amount | None = Field(default=None, description="Paid per order, in minor units of the campaign's currency.")
    include_tax: bool = Field(default=False, description="Tax in the commission basis (default: not).")
    include_shipping: bool = Field(default=False, description="Shipping in the commission basis (default: not).")
    tiers: list[Tier] = Field(default_factory=list, max_length=MAX_TIERS,
                              description="Rates by the creator's attributed revenue in the window; `above` strictly increasing.")
    window_days: WindowDays = Field(
        default=DEFAULT_WINDOW_DAYS,
        description="The rolling window tiers measure revenue over: this many whole UTC days before the order's day "
        "(the order's own day not counted).")
    new_customer_percent: Percent | None = Field(default=None, description="The rate of a customer's first purchase.")
    repeat_customer_percent: Percent | None = Field(default=None, description="The rate of a returning customer's purchases.")
    product_rates: list[ProductRate] = Field(default_factory=list, max_length=MAX_PRODUCT_RATES,
                                             description="Rates for line items by variant, product, SKU or collection.")
    cap_per_order: Amount | None = Field(default=None, description="The most one order earns.")
    cap_per_period: Amount | None = Field(default=None, description="The most a creator earns per calendar month (UTC).")
    holding_days: Days = Field(default=DEFAULT_HOLDING_DAYS, description="Days after the order before its commission is approved.")
    note: Annotated[PlainText, Field(max_length=500)] | None = Field(default=None, description="Why this version, for the team.")

    @model_validator(mode="after")
    def _consistent(self) -> "RuleCreate":
        if self.percent is None and not self.flat and not self.product_rates and self.new_customer_percent is None \
                and self.repeat_customer_percent is None:
            raise FieldError("percent", "a rule pays something: give a percent, a flat amount, customer or product rates")
        if self.tiers and self.percent is None:
            raise FieldError("percent", "tiers need the base percent that applies up to the first tier")
        for index in range(1, len(self.tiers)):
            if self.tiers[index].above <= self.tiers[index - 1].above:
                raise FieldError(f"tiers.{index}.above", f"must be above the previous tier's {self.tiers[index - 1].above}")
        seen = set()
        for index, rate in enumerate(self.product_rates):
            if (rate.match, rate.value) in seen:
                raise FieldError(f"product_rates.{index}.value", f"a second rate for {rate.match} {rate.value!r}")
            seen.add((rate.match, rate.value))
        return self

    def columns(self) -> dict:
        return {
            "percent": self.percent, "flat_minor": self.flat, "include_tax": self.include_tax,
            "include_shipping": self.include_shipping,
            "tiers": [{"above": t.above, "percent": str(t.percent)} for t in self.tiers],
            "window_days": self.window_days, "new_customer_percent": self.new_customer_percent,
            "repeat_customer_percent": self.repeat_customer_percent,
            "product_rates": [{"match": r.match, "value": r.value, "percent": str(r.percent)} for r in self.product_rates],
            "cap_per_order_minor": self.cap_per_order, "cap_per_period_minor": self.cap_per_period,
            "holding_days": self.holding_days, "note": self.note,
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


class TierRead(BaseModel):
    above: int
    percent: str


class ProductRateRead(BaseModel):
    match: str
    value: str
    percent: str


class RuleRead(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    creator_id: uuid.UUID | None = Field(description="null: the campaign's rule; else this creator's override.")
    version: int
    effective_from: datetime
    currency: str
    percent: str | None
    flat: int | None
    include_tax: bool
    include_shipping: bool
    tiers: list[TierRead]
    window_days: int
    new_customer_percent: str | None
    repeat_customer_percent: str | None
    product_rates: list[ProductRateRead]
    cap_per_order: int | None
    cap_per_period: int | None
    holding_days: int
    note: str | None
    created_at: datetime

    @classmethod
    def of(cls, rule: CommissionRule) -> "RuleRead":
        return cls(
            id=rule.id, campaign_id=rule.campaign_id, creator_id=rule.creator_id, version=rule.version,
            effective_from=rule.effective_from, currency=rule.currency, percent=_text(rule.percent), flat=rule.flat_minor,
            include_tax=rule.include_tax, include_shipping=rule.include_shipping,
            tiers=[TierRead(above=t["above"], percent=_text(Decimal(t["percent"]))) for t in rule.tiers],
            window_days=rule.window_days, new_customer_percent=_text(rule.new_customer_percent),
            repeat_customer_percent=_text(rule.repeat_customer_percent),
            product_rates=[ProductRateRead(match=r["match"], value=r["value"], percent=_text(Decimal(r["percent"])))
                           for r in rule.product_rates],
            cap_per_order=rule.cap_per_order_minor, cap_per_period=rule.cap_per_period_minor,
            holding_days=rule.holding_days, note=rule.note, created_at=rule.created_at,
        )
