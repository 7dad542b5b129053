from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.money import Currency
from shared.validation import FieldError, IsoDate, label

MAX_RATES = 1000


class FxRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: IsoDate = Field(description="The day the rate is for (it holds until a later day's rate).")
    base: Currency = Field(examples=["EUR"])
    quote: Currency = Field(examples=["USD"], description="Another currency than base.")
    rate: Annotated[str, Field(pattern=r"^[0-9]{1,17}(\.[0-9]{1,12})?$",
                               description="One unit of `base` in `quote`, a decimal string above 0 with up to 12 "
                               "decimal places: \"1.0832\".", examples=["1.0832"])]
    source: label(min_length=1, max_length=200, description="Where the rate comes from.") = "tenant"

    @model_validator(mode="after")
    def _two_currencies(self) -> "FxRateIn":
        if self.base == self.quote:
            raise FieldError("quote", f"must differ from base ({self.base})")
        if Decimal(self.rate) == 0:
            raise FieldError("rate", "must be above 0")
        self.rate = format(Decimal(self.rate).normalize(), "f")
        return self


class FxRatesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"rates": [
        {"on": "2026-11-02", "base": "EUR", "quote": "USD", "rate": "1.0832", "source": "ECB reference rate"}]}]})

    rates: list[FxRateIn] = Field(min_length=1, max_length=MAX_RATES,
                                  description="Up to 1,000 rates; one already given for its day and pair is replaced.")

    @model_validator(mode="after")
    def _once_each(self) -> "FxRatesIn":
        seen: dict[tuple, int] = {}
        for i, r in enumerate(self.rates):
            key = (r.on, r.base, r.quote)
            if key in seen:
                raise FieldError(f"rates.{i}", f"repeats rates.{seen[key]} ({r.base}/{r.quote} on {r.on.isoformat()})")
            seen[key] = i
        return self


class FxRateRead(BaseModel):
    on: date
    base: str
    quote: str
    rate: str
    source: str


class FxRatesRead(BaseModel):
    items: list[FxRateRead]
    saved: int | None = Field(default=None, description="Rates written by this request (new or replaced).")
