"""Money as integer minor units of an ISO 4217 currency: never floats (STYLE.md).

Each currency's exponent (how many decimal places its minor unit has: EUR 2, JPY 0, BHD 3) comes
from the `iso4217` package, a copy of the ISO 4217 list kept by its maintainers. Codes without a
minor unit in the standard (precious metals, funds, XXX) are not currencies anyone is paid in
here and are refused.

Amounts cross the API as integers in minor units (`1250` EUR is 12.50 EUR); partners' decimal
strings ("19.99") are read exactly with `parse_amount`, and computed amounts (a percentage of a
basis) are rounded to the minor unit once, half to even, with `round_minor`. `to_minor` and
`from_minor` convert a major-unit Decimal (discovery's price estimates) with `minor_units`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated

import iso4217
from pydantic import AfterValidator, Field

# Every ISO 4217 code that has a minor unit, sorted: what `Currency` accepts.
_EXPONENTS: dict[str, int] = {c.code: c.exponent for c in iso4217.Currency if c.exponent is not None}
CURRENCY_CODES = sorted(_EXPONENTS)
# Bigger than any real amount in minor units, and inside PostgreSQL's BIGINT with room for sums.
MAX_MINOR = 10**15


class MoneyError(ValueError):
    """An amount or currency that is not money here; the message says why, for a 4xx."""


def exponent(currency: str) -> int:
    """The number of decimal places of `currency`'s minor unit."""
    try:
        return _EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code with a minor unit (upper case, e.g. EUR)") from None


def check_currency(value: str) -> str:
    exponent(value)
    return value


def parse_amount(text: str | int | Decimal, currency: str) -> int:
    """An exact decimal amount ("19.99", 19, Decimal) in minor units of `currency`. More decimal
    places than the currency has (other than trailing zeros) is an error, never a rounding."""
    places = exponent(currency)
    if isinstance(text, float) or isinstance(text, bool):
        raise MoneyError("an amount is a decimal string or an integer, never a float")
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise MoneyError(f"{text!r} is not a decimal amount") from None
    if not value.is_finite():
        raise MoneyError(f"{text!r} is not a decimal amount")
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise MoneyError(f"{text!r} has more than {places} decimal places, the most {currency} has")
    if abs(minor) > MAX_MINOR:
        raise MoneyError(f"{text!r} is out of range")
    return int(minor)


def minor_units(currency: str) -> int:
    """ISO 4217's number of digits after the decimal point of `currency`; 2 for a code the list
    gives none (callers check their currencies before)."""
    return _EXPONENTS.get(currency, 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` (major units) in minor units, rounded half to even when it has more digits than the currency."""
    return int(amount.scaleb(minor_units(currency)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_minor(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_units(currency))


def round_minor(value: Decimal, currency: str) -> int:
    """A computed amount already in minor units (e.g. 12.5% of 1999 = 249.875), rounded half to
    even to a whole minor unit."""
    exponent(currency)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def format_amount(minor: int, currency: str) -> str:
    """`minor` units of `currency` as a decimal string: (1250, "EUR") -> "12.50", (500, "JPY") -> "500"."""
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of one currency. Different currencies are never added."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        exponent(self.currency)
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise MoneyError("an amount in minor units is an integer")

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise MoneyError(f"{self.currency} and {other.currency} are never added together")
        return Money(self.minor + other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return self + (-other)

    def __str__(self) -> str:
        return f"{format_amount(self.minor, self.currency)} {self.currency}"


def totals_by_currency(amounts) -> dict[str, int]:
    """Sums of (minor, currency) pairs or Money, one per currency, never across them."""
    out: dict[str, int] = {}
    for amount in amounts:
        minor, currency = (amount.minor, amount.currency) if isinstance(amount, Money) else amount
        exponent(currency)
        out[currency] = out.get(currency, 0) + minor
    return out


# For request models: an ISO 4217 code, and an amount in minor units (never negative).
Currency = Annotated[
    str,
    Field(description="ISO 4217 code, e.g. EUR.", json_schema_extra={"enum": CURRENCY_CODES}),
    AfterValidator(check_currency),
]
MinorAmount = Annotated[
    int,
    Field(ge=0, le=MAX_MINOR, description="An amount in the currency's minor units (cents for EUR, yen for JPY): 1250 EUR is 12.50.",
          examples=[1250]),
]
