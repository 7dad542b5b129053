"""Money as integer minor units of an ISO 4217 currency: never floats.

The number of minor units (the exponent) is ISO 4217's: 2 unless the currency is listed below
(ISO 4217 amendment list, "Minor unit" column; funds and precious metals without minor units
are not currencies anyone pays a creator in, so they are refused by the callers' currency check).
"""

from decimal import ROUND_HALF_EVEN, Decimal

_ZERO = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"})
_THREE = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
_FOUR = frozenset({"CLF", "UYW"})


def minor_units(currency: str) -> int:
    """ISO 4217's number of digits after the decimal point of `currency`."""
    if currency in _ZERO:
        return 0
    if currency in _THREE:
        return 3
    if currency in _FOUR:
        return 4
    return 2


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` in minor units, rounded half to even when it has more digits than the currency."""
    exponent = minor_units(currency)
    return int((amount * (Decimal(10) ** exponent)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_minor(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_units(currency))
