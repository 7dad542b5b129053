"""The commission basis of an order: what a percentage commission is a percentage of.

By default the basis is the line items net of their discounts, **without tax and shipping**
(a campaign may include either). It is always computed from the lines, never taken from the
partner's totals (which may not add up: shopify.py notes where they do not), and it is explained
in words, amounts included, so a creator or a finance team can check it by hand.

Refunds reduce a line's basis in proportion to the units returned (2 of 3 units refunded: 2/3 of
the line's net); refunded shipping reduces it only when shipping is in the basis; an amount a
refund returns that no line explains reduces the basis in proportion to what the customer paid.
Rounding is done once per line, half to even, so the parts always add up to the whole.

Which rules apply is stamped on an order when it is first stored (`Order.basis_rules`, the
`orders.basis_rules` column) and kept for its whole life, so a change of the rules never changes
what an order already credited earns when its next message arrives
(docs/decisions/0060-basis-rules-stamped-per-order.md):

1. the rules above, with the amount no line explains taken off the order's basis only: the
   commission, computed per line, did not fall with it;
2. (orders first stored from 2026-11-29) as 1, and that amount is taken from the lines (and the
   shipping in the basis) in proportion to their basis, so the commission falls with it and the
   fall is clawed back; a gift card sold is not in the basis (what it buys earns commission when
   the card is spent, on that order).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from services.attribution.orders.model import BASIS_RULES, KNOWN_BASIS_RULES, LineItem, Order, Refund
from shared.money import format_amount, round_minor


@dataclass(frozen=True, slots=True)
class LineBasis:
    line_id: str
    net_minor: int  # this line's part of the basis before refunds
    refunded_minor: int  # what refunds took off it
    refunded_units: int
    # Its part of the money refunds returned that no line explains (rules 2; 0 under rules 1).
    adjusted_minor: int = 0
    gift_card: bool = False  # a gift card sold: not in the basis under rules 2 (net 0)

    @property
    def basis_minor(self) -> int:
        return self.net_minor - self.refunded_minor - self.adjusted_minor


@dataclass(frozen=True, slots=True)
class Basis:
    currency: str
    amount_minor: int  # the basis now: after the refunds given
    before_refunds_minor: int
    lines: tuple[LineBasis, ...]
    shipping_minor: int  # shipping in the basis (0 unless included)
    explanation: str
    rules: int = BASIS_RULES


def line_net(line: LineItem, include_tax: bool) -> int:
    """The line's price times quantity, less its discounts, with or without its tax."""
    net = line.gross_minor - line.discount_minor
    if line.price_includes_tax and not include_tax:
        net -= line.tax_minor
    elif include_tax and not line.price_includes_tax:
        net += line.tax_minor
    return max(net, 0)


def share_out(amounts: list[int], limit: int) -> list[int]:
    """`amounts` scaled down to sum to `limit` (0 <= limit < sum): each gets its proportional
    share rounded down, and the units left over go to the largest remainders (the first part on
    ties), so the shares add up exactly and none is above its amount."""
    total = sum(amounts)
    shares = [a * limit // total for a in amounts]
    remainders = sorted(range(len(amounts)), key=lambda i: (-(amounts[i] * limit % total), i))
    for i in remainders[: limit - sum(shares)]:
        shares[i] += 1
    return shares


def commission_basis(order: Order, refunds: tuple[Refund, ...] | list[Refund] = (), *, include_tax: bool = False,
                     include_shipping: bool = False) -> Basis:
    code = order.currency
    rules = order.basis_rules
    if rules not in KNOWN_BASIS_RULES:
        raise ValueError(f"unknown basis rules {rules}")

    def f(minor: int) -> str:
        return f"{format_amount(minor, code)} {code}"

    refunded_units: dict[str, int] = {}
    unexplained = 0
    refunded_shipping = 0
    for refund in refunds:
        for rl in refund.lines:
            refunded_units[rl.line_id] = refunded_units.get(rl.line_id, 0) + rl.quantity
        refunded_shipping += refund.shipping_minor
        unexplained += refund.adjustment_minor
    lines = []
    known = {line.line_id for line in order.lines}
    for line in order.lines:
        gift_card = rules >= 2 and line.gift_card
        net = 0 if gift_card else line_net(line, include_tax)
        units = min(refunded_units.get(line.line_id, 0), line.quantity)
        refunded = round_minor(Decimal(net) * units / line.quantity, code) if line.quantity else 0
        lines.append(LineBasis(line.line_id, net, refunded, units, gift_card=gift_card))
    shipping = (order.shipping_minor or 0) if include_shipping else 0
    shipping_left = max(shipping - refunded_shipping, 0) if include_shipping else 0
    before = sum(lb.net_minor for lb in lines) + shipping
    after_lines = sum(lb.basis_minor for lb in lines) + shipping_left
    paid = order.total_minor or 0
    adjustment = 0
    if unexplained > 0 and paid > 0 and after_lines > 0:
        adjustment = min(round_minor(Decimal(after_lines) * unexplained / paid, code), after_lines)
    amount = after_lines - adjustment
    taken: list[str] = []
    if rules >= 2 and adjustment:
        # Taken from the lines and the shipping in the basis in proportion to what each has left,
        # so the per-line commission falls with the basis (0 <= amount < after_lines here).
        pieces = [lb.basis_minor for lb in lines] + [shipping_left]
        kept = share_out(pieces, amount)
        for i, lb in enumerate(lines):
            if pieces[i] != kept[i]:
                lines[i] = replace(lb, adjusted_minor=pieces[i] - kept[i])
                taken.append(f"line {lb.line_id} less {f(pieces[i] - kept[i])}")
        if shipping_left != kept[-1]:
            taken.append(f"shipping less {f(shipping_left - kept[-1])}")
        shipping_left = kept[-1]

    counted = [line for line, lb in zip(order.lines, lines, strict=True) if not lb.gift_card]
    gross = sum(line.gross_minor for line in counted)
    discounts = sum(line.discount_minor for line in counted)
    tax = sum(line.tax_minor for line in counted)
    parts = [f"line items {f(gross)}"]
    if discounts:
        parts.append(f"less discounts {f(discounts)}")
    if tax:
        if order.taxes_included and not include_tax:
            parts.append(f"less the tax included in the prices {f(tax)}")
        elif include_tax and not order.taxes_included:
            parts.append(f"plus tax {f(tax)}")
    if include_shipping and shipping:
        parts.append(f"plus shipping {f(shipping)}")
    excluded = [name for name, included, value in (("tax", include_tax, tax), ("shipping", include_shipping, order.shipping_minor or 0))
                if not included and value]
    text = f"basis {f(before)} = " + ", ".join(parts)
    if excluded:
        text += f" ({' and '.join(excluded)} not counted)"
    text += "."
    cards = [(line, lb) for line, lb in zip(order.lines, lines, strict=True) if lb.gift_card]
    if cards:
        text += (f" Gift cards sold are not in the basis (what a card buys earns commission when it is spent): "
                 f"{', '.join(f'line {line.line_id} {f(line.gross_minor - line.discount_minor)}' for line, _ in cards)}.")
    unknown = sorted(set(refunded_units) - known)
    for lb in lines:
        if lb.refunded_units and not lb.gift_card:
            text += f" Refunded {lb.refunded_units} unit(s) of line {lb.line_id}: basis less {f(lb.refunded_minor)}."
    if include_shipping and refunded_shipping:
        text += f" Shipping refunded: less {f(min(refunded_shipping, shipping))}."
    if adjustment:
        text += (f" A refund returned {f(unexplained)} no line explains: the basis is reduced in the same proportion of the "
                 f"{f(paid)} paid, less {f(adjustment)}")
        text += f", taken from {', '.join(taken)}." if taken else "."
    if unknown:
        text += f" Refund lines for unknown line items {', '.join(unknown)} were ignored."
    if refunds:
        text += f" Basis now {f(amount)}."
    return Basis(code, amount, before, tuple(lines), shipping_left, text, rules)
