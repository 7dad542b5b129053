"""The model comparison's API models. Orders are fractions of orders as decimal strings (6 places,
adding up exactly to the converting paths); revenue and commission are integer minor units of
the group's `currency`, split per order with `split_minor`, so they add up to the cent."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from services.attribution.models import MODEL_NAMES, UnknownModel, parse_models
from services.attribution.models.params import MARKOV_MAX_ORDER, SHAPLEY_EXACT_LIMIT
from services.attribution.reports.schemas import Period
from shared.validation import FieldError

ORDERS_PLACES = 6
# Numbers in the schema (pydantic would also offer any string for a Decimal, which the fuzzer
# then sends as valid).
_Share = Annotated[Decimal, WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1})]
_NAME = "(" + "|".join(MODEL_NAMES) + ")"
_MODELS = rf"^\s*{_NAME}\s*(,\s*{_NAME}\s*)*$"


class ComparisonQuery(Period):
    """`models`, the period, and the models' parameters, each named for its model. The schema
    states every range; the engine (services.attribution.models.parameters) checks them again."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    models: str | None = Field(default=None, json_schema_extra={"pattern": _MODELS},
                               description="Comma-separated model names; all of them when not given.")
    # At least 0.01 day: far shorter, a year-old touch's weight 2^(-Δt/h) underflows the
    # engine's decimals to 0, and so can every weight of an order.
    half_life_days: Annotated[Decimal, WithJsonSchema({"type": "number", "minimum": 0.01, "maximum": 3650})] | None = Field(default=None, ge=Decimal("0.01"), le=3650, allow_inf_nan=False,
                                           description="time_decay: the half-life in days, 0.01 to 3650 (default 7).")
    position_first: _Share | None = Field(default=None, ge=0, le=1, allow_inf_nan=False,
                                           description="position_based: the first touch's share (default 0.4).")
    position_last: _Share | None = Field(default=None, ge=0, le=1, allow_inf_nan=False,
                                          description="position_based: the last touch's share (default 0.4); with the first's, at most 1.")
    markov_order: int | None = Field(default=None, ge=1, le=MARKOV_MAX_ORDER, description="markov: the chain's order, 1 (default) to 4.")
    shapley_value: Literal["conversions", "value"] | None = Field(
        default=None, description="shapley: a group's worth, `conversions` (default) or `value`.")
    shapley_exact_max: int | None = Field(default=None, ge=1, le=SHAPLEY_EXACT_LIMIT,
                                          description="shapley: exact up to this many creators (default 15).")
    shapley_samples: int | None = Field(default=None, ge=100, le=1_000_000,
                                        description="shapley: permutations sampled beyond that (default 2000).")
    shapley_seed: int | None = Field(default=None, ge=0, le=2**63 - 1, description="shapley: the sampling seed (default 0).")

    @field_validator("half_life_days", "position_first", "position_last", "markov_order", "shapley_exact_max",
                     "shapley_samples", "shapley_seed", mode="before")
    @classmethod
    def _blank_is_not_given(cls, value: object) -> object:
        # `?position_last=` is how a form sends a parameter left empty: the default, as when absent.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("models")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_models(value)
            except UnknownModel as exc:
                raise ValueError(f"unknown model {exc.name!r}; valid models: {', '.join(exc.valid)}") from None
        return value

    @model_validator(mode="after")
    def _ends_fit(self) -> "ComparisonQuery":
        first = self.position_first if self.position_first is not None else Decimal("0.4")
        last = self.position_last if self.position_last is not None else Decimal("0.4")
        if first + last > 1:
            raise FieldError("position_first", f"the first ({first}) and last ({last}) shares add up to more than 1")
        return self


class Credit(BaseModel):
    """What one model gives one creator."""

    orders: str = Field(description="Credited orders: the sum of the creator's shares of each order (6 decimal places).")
    revenue: int = Field(description="Each order's commission basis (after refunds) split by the model's shares, in minor units.")
    commission: int = Field(description="Each order's net commission in the ledger split by the model's shares, in minor units.")
    detail: dict[str, Any] = Field(default_factory=dict, description="The model's own figures: removal effect (markov), "
                                   "Shapley value, standard error and 95 % interval (shapley).")


class CreatorLine(BaseModel):
    creator_id: uuid.UUID
    credit: dict[str, Credit] = Field(description="By model name: the credit each model gives the creator, side by side.")


class ModelLine(BaseModel):
    """One model over the group's paths: what it was computed from and its totals."""

    model: str
    version: str = Field(description="The model's arithmetic version, e.g. `markov-v1`.")
    params: dict[str, Any] = Field(description="Its parameters, defaults filled in.")
    paths: int = Field(description="Paths it was computed from (converting and not).")
    converting_paths: int
    insufficient_data: str | None = Field(default=None, description="Why it gives no figure: what is missing. Null when it does.")
    method: str | None = Field(default=None, description="shapley: `exact`, or `sampled` (each value then has a standard error).")
    samples: int | None = Field(default=None, description="shapley: the permutations sampled (0 when exact).")
    orders: str = Field(description="Credited orders in all: the converting paths.")
    revenue: int
    commission: int


class PathCounts(BaseModel):
    total: int
    converting: int = Field(description="Orders credited to the campaign with at least one touch of it.")
    non_converting: int = Field(description="Visitors whose clicks no order took up (shared by every currency).")
    orders_without_touch: int = Field(description="Orders credited to the campaign with no qualifying touch left to make a path.")


class CurrencyComparison(BaseModel):
    currency: str = Field(description="ISO 4217: the orders of this group, and their money.")
    paths: PathCounts
    models: list[ModelLine]
    creators: list[CreatorLine] = Field(description="Every creator some model credits, by creator id.")


class CampaignAttribution(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    campaign_id: uuid.UUID
    from_: datetime | None = Field(serialization_alias="from", description="The period asked for (orders placed, clicks made).")
    to: datetime | None = Field(description="The period's end: earlier than asked when `truncated` says so.")
    truncated: str | None = Field(default=None, description="Why the period was cut short (too many orders or clicks); null when it was not.")
    currencies: list[CurrencyComparison] = Field(description="One group per currency: the campaign's, and any its orders were placed in.")
