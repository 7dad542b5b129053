"""shared.money: exponents from ISO 4217, exact parsing, rounding once, no sums across currencies."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.money import (
    CURRENCY_CODES, Money, MoneyError, exponent, format_amount, from_minor, minor_units, parse_amount, round_minor,
    to_minor, totals_by_currency,
)


def test_exponents_follow_iso_4217():
    assert (exponent("EUR"), exponent("JPY"), exponent("BHD"), exponent("CLF")) == (2, 0, 3, 4)
    assert "XAU" not in CURRENCY_CODES and "EUR" in CURRENCY_CODES
    with pytest.raises(MoneyError, match="XAU"):
        exponent("XAU")
    with pytest.raises(MoneyError):
        exponent("eur")


def test_parse_amount_is_exact_and_never_rounds():
    assert parse_amount("19.99", "EUR") == 1999
    assert parse_amount("19.90", "EUR") == 1990
    assert parse_amount("500", "JPY") == 500
    assert parse_amount("500.00", "JPY") == 500  # trailing zeros are not precision
    assert parse_amount("1.234", "BHD") == 1234
    assert parse_amount(7, "USD") == 700
    for bad, currency in (("19.999", "EUR"), ("500.5", "JPY"), ("abc", "EUR"), ("NaN", "EUR"), ("Infinity", "USD")):
        with pytest.raises(MoneyError):
            parse_amount(bad, currency)
    with pytest.raises(MoneyError, match="float"):
        parse_amount(19.99, "EUR")  # type: ignore[arg-type]


def test_format_and_round():
    assert format_amount(1250, "EUR") == "12.50"
    assert format_amount(500, "JPY") == "500"
    assert format_amount(-5, "BHD") == "-0.005"
    assert round_minor(Decimal("249.875"), "EUR") == 250
    assert round_minor(Decimal("248.5"), "EUR") == 248  # half to even
    assert to_minor(Decimal("12.345"), "EUR") == 1234 and from_minor(1234, "EUR") == Decimal("12.34")
    assert minor_units("XAU") == 2  # lenient for callers that checked the code themselves


def test_different_currencies_are_never_added():
    assert Money(100, "EUR") + Money(50, "EUR") == Money(150, "EUR")
    with pytest.raises(MoneyError, match="never added"):
        Money(100, "EUR") + Money(50, "USD")
    assert totals_by_currency([(100, "EUR"), (5, "JPY"), Money(-30, "EUR")]) == {"EUR": 70, "JPY": 5}


@given(st.sampled_from(CURRENCY_CODES), st.integers(min_value=-(10**14), max_value=10**14))
def test_format_then_parse_is_the_identity(currency, minor):
    assert parse_amount(format_amount(minor, currency), currency) == minor
