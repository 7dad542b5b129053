"""What an order earns under a commission rule: a pure function of the rule, the order, its
refunds and three figures the caller measures (the creator's attributed revenue in the rule's
window, whether the customer is new, what the creator has already earned this month).

The steps, each written into the explanation with its amounts:

1. An order in another currency than the rule's earns nothing: amounts are never converted.
   A cancelled order earns nothing.
2. The commission basis (orders/basis.py), with tax and shipping as the rule says.
3. Each line's rate, the first that applies: the line's product-level rate (variant, then
   product, then SKU, then collection: the most specific match wins); else the first- or
   repeat-purchase rate for this customer; else the highest tier whose threshold the creator's
   revenue in the window is above; else the rule's percent. Each line's amount is rounded once,
   half to even. Shipping in the basis is paid at the order's rate (3 without the product step).
4. The flat amount per order, when the order has a basis left (a fully refunded order earns none).
5. The caps: per order, and what is left of the cap per period after `earned_in_period`. A
   capped total is shared over the parts in proportion (largest remainder), so the parts always
   add up to the total and none grows.
6. `hold_until` = placed_at + the holding period: the ledger approves the commission after it.

`terms.window_of` and `terms.period_of` give the caller the spans to measure the two figures over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from services.attribution.orders.basis import commission_basis, share_out
from services.attribution.orders.model import LineItem, Order, Refund
from services.attribution.rules.terms import MATCH_ORDER, ProductRate, Rule
from shared.money import format_amount, round_minor

_MATCH_NAME = {"variant": "variant", "product": "product", "sku": "SKU", "collection": "collection"}


@dataclass(frozen=True, slots=True)
class Part:
    """One line's (or the shipping's, or the flat amount's) share of the commission."""

    key: str  # the line id, "shipping" or "flat"
    basis_minor: int  # what the percent was taken of (the flat amount for "flat")
    percent: Decimal | None  # None for the flat amount
    why: str  # where the rate came from, in words
    before_caps_minor: int
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Commission:
    currency: str
    amount_minor: int
    hold_until: datetime
    parts: tuple[Part, ...]
    explanation: str
    basis_minor: int = 0
    before_caps_minor: int = 0


def pct(value: Decimal) -> str:
    """12.5000 -> "12.5", 100 -> "100"."""
    return format(value.normalize(), "f")


def _money(minor: int, currency: str) -> str:
    return f"{format_amount(minor, currency)} {currency}"


def product_rate(rule: Rule, line: LineItem) -> ProductRate | None:
    """The line's product-level rate, most specific match first; within one kind, the first the
    rule lists. None when no product-level rate matches."""
    for kind in MATCH_ORDER:
        for rate in rule.product_rates:
            if rate.match != kind:
                continue
            if ((kind == "variant" and line.variant_id == rate.value) or (kind == "product" and line.product_id == rate.value)
                    or (kind == "sku" and line.sku == rate.value) or (kind == "collection" and rate.value in line.collections)):
                return rate
    return None


def order_rate(rule: Rule, *, revenue_in_window: int, new_customer: bool) -> tuple[Decimal | None, str]:
    """The rate for a line no product-level rate matches, and why it is that rate."""
    c = rule.currency
    if new_customer and rule.new_customer_percent is not None:
        return rule.new_customer_percent, "first-purchase rate: a new customer"
    if not new_customer and rule.repeat_customer_percent is not None:
        return rule.repeat_customer_percent, "repeat-purchase rate: a returning customer"
    reached = [tier for tier in rule.tiers if revenue_in_window > tier.above_minor]
    if reached:
        tier = reached[-1]
        return tier.percent, (f"tier above {_money(tier.above_minor, c)} of sales in {rule.window_days} days: "
                              f"{_money(revenue_in_window, c)} sold")
    if rule.percent is None:
        return None, "no rate applies"
    if rule.tiers:
        return rule.percent, (f"base rate: {_money(revenue_in_window, c)} sold in {rule.window_days} days is not above "
                              f"the first tier's {_money(rule.tiers[0].above_minor, c)}")
    return rule.percent, "the rule's rate"


def compute(rule: Rule, order: Order, refunds: tuple[Refund, ...] | list[Refund] = (), *, revenue_in_window: int,
            new_customer: bool, earned_in_period: int) -> Commission:
    """The commission `order` earns under `rule` after `refunds`, with its parts and its
    explanation. `revenue_in_window`: the creator's attributed revenue over the rule's window, in
    its currency; `earned_in_period`: what the creator has already earned this month under the
    campaign (clawbacks never raise the room above the cap)."""
    c = rule.currency
    hold_until = order.placed_at + timedelta(days=rule.holding_days)
    held = f"held until {hold_until.isoformat()} ({rule.holding_days} days after the order)"
    if order.currency != c:
        return Commission(c, 0, hold_until, (), (
            f"No commission under {rule.label}: the order is in {order.currency} and the campaign pays in {c}; "
            "amounts are never converted between currencies."))
    if order.cancelled_at is not None:
        return Commission(c, 0, hold_until, (), (
            f"No commission under {rule.label}: the order was cancelled at {order.cancelled_at.isoformat()}."))

    basis = commission_basis(order, refunds, include_tax=rule.include_tax, include_shipping=rule.include_shipping)
    rate, rate_why = order_rate(rule, revenue_in_window=revenue_in_window, new_customer=new_customer)
    steps = [f"Under {rule.label}: {basis.explanation}"]
    parts: list[tuple[str, int, Decimal | None, str, int]] = []
    by_id = {line.line_id: line for line in order.lines}
    for lb in basis.lines:
        line = by_id[lb.line_id]
        matched = product_rate(rule, line)
        line_rate, why = ((matched.percent, f"{_MATCH_NAME[matched.match]} {matched.value} rate") if matched else (rate, rate_why))
        amount = round_minor(Decimal(lb.basis_minor) * line_rate / 100, c) if line_rate is not None else 0
        parts.append((lb.line_id, lb.basis_minor, line_rate, why, amount))
        name = f"Line {lb.line_id}" + (f" (SKU {line.sku})" if line.sku else "")
        if line_rate is None:
            steps.append(f"{name}: no rate applies to its basis {_money(lb.basis_minor, c)}, 0.")
        else:
            steps.append(f"{name}: {pct(line_rate)} % of the basis {_money(lb.basis_minor, c)} ({why}) = {_money(amount, c)}.")
    if basis.shipping_minor:
        amount = round_minor(Decimal(basis.shipping_minor) * rate / 100, c) if rate is not None else 0
        parts.append(("shipping", basis.shipping_minor, rate, rate_why, amount))
        if rate is None:
            steps.append(f"Shipping: no rate applies to {_money(basis.shipping_minor, c)}, 0.")
        else:
            steps.append(f"Shipping: {pct(rate)} % of {_money(basis.shipping_minor, c)} ({rate_why}) = {_money(amount, c)}.")
    if rule.flat_minor:
        if basis.amount_minor > 0:
            parts.append(("flat", rule.flat_minor, None, "flat amount per order", rule.flat_minor))
            steps.append(f"Plus the flat {_money(rule.flat_minor, c)} per order.")
        else:
            steps.append(f"No flat {_money(rule.flat_minor, c)}: the order has no basis left.")

    before = sum(p[4] for p in parts)
    limit, limits = None, []
    if rule.cap_per_order_minor is not None:
        limit = rule.cap_per_order_minor
        limits.append(f"capped at {_money(rule.cap_per_order_minor, c)} per order")
    if rule.cap_per_period_minor is not None:
        room = max(rule.cap_per_period_minor - max(earned_in_period, 0), 0)
        if limit is None or room < limit:
            limit = room
            limits = [f"capped at {_money(room, c)}: {_money(max(earned_in_period, 0), c)} of the "
                      f"{_money(rule.cap_per_period_minor, c)} per month already earned"]
    amounts = [p[4] for p in parts]
    if limit is not None and before > limit:
        amounts = share_out(amounts, limit)
        steps.append(f"Total {_money(before, c)}; {limits[0]}.")
    total = sum(amounts)
    steps.append(f"Commission {_money(total, c)}, {held}.")
    return Commission(
        currency=c,
        amount_minor=total,
        hold_until=hold_until,
        parts=tuple(Part(key, base, p, why, raw, amount) for (key, base, p, why, raw), amount in zip(parts, amounts, strict=True)),
        explanation=" ".join(steps),
        basis_minor=basis.amount_minor,
        before_caps_minor=before,
    )
