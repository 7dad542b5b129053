"""A commission rule's terms as plain data: what `compute.compute` pays an order under. Built from
a stored rule version (`models.CommissionRule.terms()`) or by hand in tests; no database here.

Percentages are exact `Decimal`s (0 to 100, up to 4 places), amounts integer minor units of the
campaign's currency (shared/money.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

# Most specific first: the order in which a line item's product-level rates are tried (ADR 0034).
MATCH_ORDER = ("variant", "product", "sku", "collection")
DEFAULT_WINDOW_DAYS = 30
DEFAULT_HOLDING_DAYS = 30


@dataclass(frozen=True, slots=True)
class Tier:
    """`percent` applies when the creator's attributed revenue in the window is above `above_minor`."""

    above_minor: int
    percent: Decimal


@dataclass(frozen=True, slots=True)
class ProductRate:
    """`percent` for line items whose `match` (variant, product, sku or collection) is `value`."""

    match: str
    value: str
    percent: Decimal


@dataclass(frozen=True, slots=True)
class Rule:
    currency: str  # the campaign's: flat amounts and caps are in it, and only its orders are paid
    percent: Decimal | None = None  # of the commission basis; the rate below the first tier
    flat_minor: int | None = None  # per order
    include_tax: bool = False
    include_shipping: bool = False
    tiers: tuple[Tier, ...] = ()  # strictly increasing `above_minor`
    window_days: int = DEFAULT_WINDOW_DAYS  # the rolling window the caller measures revenue over
    new_customer_percent: Decimal | None = None
    repeat_customer_percent: Decimal | None = None
    product_rates: tuple[ProductRate, ...] = ()
    cap_per_order_minor: int | None = None
    cap_per_period_minor: int | None = None  # per creator per calendar month (UTC)
    holding_days: int = DEFAULT_HOLDING_DAYS
    label: str = "the rule"  # how the explanation names it: "campaign rule version 3"


def period_of(placed_at: datetime) -> tuple[datetime, datetime]:
    """The cap period an order placed at `placed_at` counts in: its calendar month in UTC, as
    [start, end). The caller sums what the creator earned in it for `earned_in_period`."""
    at = placed_at.astimezone(UTC)
    start = datetime(at.year, at.month, 1, tzinfo=UTC)
    end = datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def window_of(rule: Rule, placed_at: datetime) -> tuple[date, date]:
    """The rolling window the tiers measure the creator's attributed revenue over, as UTC days
    [start, end): the `window_days` whole days before the order's day. The order's own day is not
    counted, so orders placed the same day earn the same tier whatever order they arrive in
    (docs/decisions/0039)."""
    day = placed_at.astimezone(UTC).date()
    return day - timedelta(days=rule.window_days), day
