"""Basis rules stamped per order (orders/basis.py, docs/decisions/0060): under rules 2, money a
refund returns that no line explains is taken from the lines and the shipping in the basis, so
the commission falls with it; a gift card sold is not in the basis. An order stored under rules 1
is computed as before for its whole life. Pure functions here; test_basis_rules_e2e.py runs the
same through the gateway, and the migration that stamps the orders kept before it."""

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.attribution.orders import generic
from services.attribution.orders.basis import commission_basis
from services.attribution.orders.model import BASIS_RULES, LineItem, Order, Refund, RefundLine, customer_hash
from services.attribution.crediting.settlement import refund_falls
from services.attribution.rules.compute import compute
from services.attribution.rules.terms import ProductRate, Rule
from tests.attribution.test_rules_compute import PLACED, line, order


def money_back(amount: int, *lines: RefundLine, refund_id: str = "R1", shipping: int = 0) -> Refund:
    return Refund("generic", "A-1", refund_id, PLACED, "EUR", tuple(lines), shipping_minor=shipping, adjustment_minor=amount)


def commission(rule: Rule, o: Order, refunds=()) -> int:
    return compute(rule, o, refunds, revenue_in_window=0, new_customer=False, earned_in_period=0).amount_minor


# 2 x 25.00 less 5.00 (45.00), 17.00, shipping 5.00; the customer paid 67.00.
SHOP = order(line("1", 2, 2500, discount_minor=500), line("2", 1, 1700), shipping=500, total=6700)
TEN = Rule("EUR", percent=Decimal("10"))


def test_an_order_parsed_now_is_under_the_current_rules():
    parsed = generic.parse(json.dumps({"type": "order", "order_id": "A-1", "placed_at": "2026-11-29T10:00:00Z",
                                       "currency": "EUR", "line_items": [{"id": "1", "quantity": 1, "unit_price": "20.00"}]}),
                           customer_hash(b"a-test-secret-of-32-bytes-long!!")).message
    assert parsed.basis_rules == BASIS_RULES == 2


def test_money_no_line_explains_is_taken_from_the_lines_in_proportion():
    # 6.70 of the 67.00 paid comes back: a tenth of the basis 62.00, 6.20, taken 4.50 / 1.70 from the lines.
    basis = commission_basis(SHOP, [money_back(670)])
    assert (basis.before_refunds_minor, basis.amount_minor) == (6200, 5580)
    assert [(lb.line_id, lb.adjusted_minor, lb.basis_minor) for lb in basis.lines] == [("1", 450, 4050), ("2", 170, 1530)]
    assert "taken from line 1 less 4.50 EUR, line 2 less 1.70 EUR." in basis.explanation
    # The commission falls with the basis: 10 % of 62.00 = 6.20, then 10 % of 55.80 = 5.58.
    assert (commission(TEN, SHOP), commission(TEN, SHOP, [money_back(670)])) == (620, 558)


def test_under_rules_1_the_basis_falls_but_the_commission_does_not():
    kept = replace(SHOP, basis_rules=1)
    basis = commission_basis(kept, [money_back(670)])
    assert basis.amount_minor == 5580  # the order's basis was always reduced
    assert [lb.adjusted_minor for lb in basis.lines] == [0, 0] and "taken from" not in basis.explanation
    assert commission(TEN, kept, [money_back(670)]) == commission(TEN, kept) == 620


def test_shipping_in_the_basis_gives_its_part_too():
    rule = Rule("EUR", percent=Decimal("10"), include_shipping=True)
    basis = commission_basis(SHOP, [money_back(670)], include_shipping=True)
    # The basis 67.00 (shipping counted) loses a tenth: 4.50, 1.70 and 0.50 of the shipping.
    assert (basis.amount_minor, basis.shipping_minor) == (6030, 450)
    assert "shipping less 0.50 EUR" in basis.explanation
    assert commission(rule, SHOP, [money_back(670)]) == 405 + 153 + 45


def test_more_money_back_than_the_basis_leaves_nothing():
    basis = commission_basis(SHOP, [money_back(6700), money_back(500, refund_id="R2")])
    assert basis.amount_minor == 0 and all(lb.basis_minor == 0 for lb in basis.lines)
    assert commission(TEN, SHOP, [money_back(6700)]) == 0


def test_a_gift_card_sold_is_not_in_the_basis_under_rules_2_only():
    card = line("g", 1, 5000, gift_card=True)
    with_card = replace(SHOP, lines=SHOP.lines + (card,), total_minor=11700)
    basis = commission_basis(with_card)
    assert (basis.before_refunds_minor, basis.amount_minor) == (6200, 6200)
    assert basis.explanation.startswith("basis 62.00 EUR = line items 67.00 EUR, less discounts 5.00 EUR")
    assert "Gift cards sold are not in the basis (what a card buys earns commission when it is spent): line g 50.00 EUR." \
        in basis.explanation
    assert commission(TEN, with_card) == 620
    assert commission(TEN, replace(with_card, basis_rules=1)) == 1120
    # A returned gift card takes nothing more off.
    returned = Refund("generic", "A-1", "R1", PLACED, "EUR", (RefundLine("g", 1, 5000),))
    assert commission_basis(with_card, [returned]).amount_minor == 6200


def test_unknown_rules_are_refused_not_guessed():
    with pytest.raises(ValueError, match="unknown basis rules 3"):
        commission_basis(replace(SHOP, basis_rules=3))


def _lines():
    return st.lists(st.tuples(st.integers(1, 5), st.integers(0, 100_000), st.integers(0, 100), st.integers(0, 5),
                              st.booleans()), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(_lines(), st.integers(0, 10**6), st.integers(0, 5000), st.booleans(), st.booleans())
def test_rules_2_take_exactly_the_order_level_reduction_from_the_parts(spec, paid, back, with_shipping, include_shipping):
    o = Order(source="generic", order_id="A-1", placed_at=PLACED, currency="EUR", total_minor=paid,
              shipping_minor=700 if with_shipping else None,
              lines=tuple(LineItem(str(i), q, p, min(d * p // 100, p * q), 0, gift_card=g)
                          for i, (q, p, d, _, g) in enumerate(spec)))
    refunds = [Refund("generic", "A-1", f"r{i}", PLACED, "EUR", (RefundLine(str(i), r, 0),))
               for i, (_, _, _, r, _) in enumerate(spec) if r] + [money_back(back, refund_id="money")]
    new = commission_basis(o, refunds, include_shipping=include_shipping)
    old = commission_basis(replace(o, basis_rules=1, lines=tuple(replace(li, gift_card=False) for li in o.lines)),
                           refunds, include_shipping=include_shipping)
    # Without gift cards, both rules give the order the same basis; rules 2 also split it.
    if not any(li.gift_card for li in o.lines):
        assert new.amount_minor == old.amount_minor
    assert new.amount_minor == sum(lb.basis_minor for lb in new.lines) + new.shipping_minor
    for lb in new.lines:
        assert 0 <= lb.adjusted_minor and 0 <= lb.basis_minor <= lb.net_minor
        if lb.gift_card:
            assert lb.net_minor == 0
    assert 0 <= new.amount_minor <= new.before_refunds_minor


def _refund(draw, i: int, lines: tuple[LineItem, ...]) -> Refund:
    at = PLACED + timedelta(minutes=draw(st.integers(0, 50)))
    if draw(st.booleans()):
        line = draw(st.sampled_from(lines))
        return Refund("generic", "A-1", f"r{i}", at, "EUR", (RefundLine(line.line_id, draw(st.integers(1, line.quantity)), 0),))
    return Refund("generic", "A-1", f"r{i}", at, "EUR", (), adjustment_minor=draw(st.integers(1, 4000)))


@st.composite
def settlements(draw):
    lines = tuple(LineItem(str(i), draw(st.integers(1, 4)), draw(st.integers(0, 9000)), sku=draw(st.sampled_from([None, "x"])),
                           gift_card=draw(st.booleans()) and draw(st.booleans()))
                  for i in range(draw(st.integers(1, 4))))
    o = Order(source="generic", order_id="A-1", placed_at=PLACED, currency="EUR", lines=lines,
              shipping_minor=draw(st.sampled_from([None, 500])),
              total_minor=sum(li.gross_minor for li in lines) + draw(st.integers(0, 2000)),
              basis_rules=draw(st.sampled_from([1, 2])))
    rule = Rule("EUR", percent=draw(st.sampled_from([Decimal("5"), Decimal("10"), Decimal("12.5")])),
                include_shipping=draw(st.booleans()), flat_minor=draw(st.sampled_from([0, 100])),
                cap_per_order_minor=draw(st.sampled_from([None, 150, 300, 800])),
                product_rates=(ProductRate("sku", "x", Decimal("20")),) if draw(st.booleans()) else ())
    refunds = [_refund(draw, i, lines) for i in range(draw(st.integers(1, 5)))]
    arrival = draw(st.permutations(refunds))
    batches = draw(st.lists(st.integers(1, 2), min_size=len(refunds), max_size=len(refunds)))
    return o, rule, refunds, arrival, batches


@settings(max_examples=400, deadline=None)
@given(settlements())
def test_refunds_arriving_in_any_order_take_what_all_of_them_take(case):
    """settlement.refund_falls as settle uses it, message by message: each message brings one or
    two refunds in any order of arrival, the refunds known so far are settled, and the ledger
    (emulated: a clawback per positive fall, never below 0) ends where the commission after all
    the refunds is, whatever the order. A fall below 0 (a refund that rounds a line's commission
    up) is not paid out, so the ledger may end that many minor units lower."""
    o, rule, refunds, arrival, batches = case
    first = commission(rule, o)
    settled: frozenset[str] = frozenset()
    known: list[Refund] = []
    held, rises, at = first, 0, 0
    for size in batches:
        if at >= len(arrival):
            break
        known = sorted(known + list(arrival[at:at + size]), key=lambda r: (r.created_at, r.refund_id))
        at = min(at + size, len(arrival))
        for _, before, after in refund_falls(lambda applied: commission(rule, o, applied), known, settled, first):
            if before > after:
                held -= min(before - after, held)
            else:
                rises += after - before
        settled = frozenset(r.refund_id for r in known)
    assert at == len(arrival)
    end = commission(rule, o, known)
    assert end - rises <= held <= end
    assert held == end or rises > 0
