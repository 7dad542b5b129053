"""Converting minor units with a tenant's dated rates: the rate is per major unit, so the two
currencies' ISO 4217 exponents scale it; the latest rate on or before the day holds, an inverse
pair is used as 1/rate, and a missing rate is a 422 naming the field with the pair and day."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.attribution.fx.service import Converter
from shared.errors import Invalid


def rate(base: str, quote: str, on: date, value: str):
    return SimpleNamespace(base=base, quote=quote, on_date=on, rate=Decimal(value))


def converter(target: str, *rates) -> Converter:
    c = Converter(target, "query.currency")
    for r in rates:
        table = c._direct if r.quote == target else c._inverse
        key = r.base if r.quote == target else r.quote
        days, rows = table.setdefault(key, ([], []))
        days.append(r.on_date)
        rows.append(r)
    return c


def test_minor_units_are_scaled_by_both_currencies_exponents():
    # 10,000 JPY (no minor unit) at 0.0062 EUR each is 62.00 EUR: 6,200 cents.
    assert Decimal(10_000) * converter("EUR", rate("JPY", "EUR", date(2026, 1, 1), "0.0062")).factor("JPY", date(2026, 2, 1)) == 6200
    # 62.00 EUR (6,200 cents) at 161.29 JPY a euro is 10,000 yen (rounded by the report, once).
    to_yen = converter("JPY", rate("EUR", "JPY", date(2026, 1, 1), "161.29")).factor("EUR", date(2026, 2, 1))
    assert (Decimal(6200) * to_yen).quantize(Decimal(1)) == 10000
    # 1.000 BHD (1,000 fils) at 2.65 USD is 265 cents.
    assert Decimal(1000) * converter("USD", rate("BHD", "USD", date(2026, 1, 1), "2.65")).factor("BHD", date(2026, 1, 1)) == 265


def test_the_latest_rate_on_or_before_the_day_and_an_inverse_pair():
    c = converter("USD", rate("EUR", "USD", date(2026, 1, 1), "1.10"), rate("EUR", "USD", date(2026, 3, 1), "1.20"),
                  rate("USD", "GBP", date(2026, 1, 1), "0.8"))
    assert c.factor("EUR", date(2026, 2, 28)) == Decimal("1.10")
    assert c.factor("EUR", date(2026, 3, 1)) == Decimal("1.20")
    assert c.factor("GBP", date(2026, 6, 1)) == Decimal(1) / Decimal("0.8")  # given as USD/GBP
    assert [u.inverted for u in c.used.values()] == [False, False, True]


def test_no_rate_before_the_day_is_refused_naming_the_pair_and_day():
    c = converter("USD", rate("EUR", "USD", date(2026, 3, 1), "1.20"))
    with pytest.raises(Invalid) as refused:
        c.factor("EUR", date(2026, 2, 1))
    assert "no EUR/USD rate on or before 2026-02-01" in str(refused.value.errors if hasattr(refused.value, "errors") else refused.value)
