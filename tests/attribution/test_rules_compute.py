"""The commission computation (services/attribution/rules/compute.py), a pure function: crafted
orders with answers worked out by hand, then hypothesis properties over any rule and order."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.attribution.orders.model import LineItem, Order, Refund, RefundLine
from services.attribution.rules.compute import compute, share_out
from services.attribution.rules.terms import ProductRate, Rule, Tier, period_of, window_of

PLACED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def order(*lines: LineItem, currency: str = "EUR", shipping: int | None = None, total: int | None = None,
          taxes_included: bool = False, cancelled_at: datetime | None = None) -> Order:
    return Order(source="generic", order_id="A-1", placed_at=PLACED, currency=currency, lines=tuple(lines),
                 shipping_minor=shipping, total_minor=total, taxes_included=taxes_included, cancelled_at=cancelled_at)


def line(line_id: str = "1", quantity: int = 1, price: int = 1000, **kw) -> LineItem:
    return LineItem(line_id=line_id, quantity=quantity, unit_price_minor=price, **kw)


def run(rule: Rule, o: Order, refunds=(), *, revenue: int = 0, new: bool = False, earned: int = 0):
    return compute(rule, o, refunds, revenue_in_window=revenue, new_customer=new, earned_in_period=earned)


TEES = order(line("1", 2, 2500, discount_minor=500))  # 2 x 25.00 less 5.00: basis 45.00 EUR


def test_percent_of_the_basis():
    c = run(Rule("EUR", percent=Decimal("10")), TEES)
    assert c.amount_minor == 450
    assert "10 % of the basis 45.00 EUR (the rule's rate) = 4.50 EUR" in c.explanation


def test_flat_per_order():
    c = run(Rule("EUR", flat_minor=200), TEES)
    assert c.amount_minor == 200
    assert [p.key for p in c.parts if p.amount_minor] == ["flat"]
    assert "Plus the flat 2.00 EUR per order" in c.explanation


def test_percent_and_flat_together():
    assert run(Rule("EUR", percent=Decimal("10"), flat_minor=200), TEES).amount_minor == 650


def test_tier_applies_only_above_its_threshold():
    rule = Rule("EUR", percent=Decimal("10"), tiers=(Tier(100_000, Decimal("12")), Tier(500_000, Decimal("15"))))
    at = run(rule, TEES, revenue=100_000)
    assert at.amount_minor == 450
    assert "base rate: 1000.00 EUR sold in 30 days is not above the first tier's 1000.00 EUR" in at.explanation
    above = run(rule, TEES, revenue=100_001)
    assert above.amount_minor == 540
    assert "tier above 1000.00 EUR of sales in 30 days" in above.explanation
    assert run(rule, TEES, revenue=10**7).amount_minor == 675


def test_the_issue_example_tier_then_cap():
    rule = Rule("USD", percent=Decimal("10"), tiers=(Tier(100_000, Decimal("12")),), cap_per_order_minor=500)
    c = run(rule, order(line("1", 1, 5950), currency="USD"), revenue=150_000)
    assert c.before_caps_minor == 714
    assert c.amount_minor == 500
    assert "12 % of the basis 59.50 USD (tier above 1000.00 USD of sales in 30 days" in c.explanation
    assert "= 7.14 USD" in c.explanation and "capped at 5.00 USD per order" in c.explanation


def test_first_and_repeat_purchase_rates():
    rule = Rule("EUR", percent=Decimal("10"), new_customer_percent=Decimal("20"), repeat_customer_percent=Decimal("5"))
    first = run(rule, TEES, new=True)
    assert first.amount_minor == 900 and "first-purchase rate" in first.explanation
    repeat = run(rule, TEES, new=False)
    assert repeat.amount_minor == 225 and "repeat-purchase rate" in repeat.explanation


def test_customer_rate_only_for_its_kind_of_customer():
    rule = Rule("EUR", percent=Decimal("10"), new_customer_percent=Decimal("20"))
    assert run(rule, TEES, new=False).amount_minor == 450


def test_most_specific_product_rate_wins():
    rule = Rule("EUR", percent=Decimal("10"), product_rates=(
        ProductRate("collection", "summer", Decimal("15")),
        ProductRate("sku", "S-2", Decimal("20")),
        ProductRate("product", "p1", Decimal("25")),
        ProductRate("variant", "v1", Decimal("30")),
    ))
    o = order(
        line("a", variant_id="v1", product_id="p1", sku="S-2", collections=("summer",)),  # variant: 3.00
        line("b", variant_id="v9", product_id="p1", sku="S-2", collections=("summer",)),  # product: 2.50
        line("c", product_id="p2", sku="S-2", collections=("summer",)),  # SKU: 2.00
        line("d", product_id="p3", collections=("summer", "sale")),  # collection: 1.50
        line("e", product_id="p4"),  # the rule's rate: 1.00
    )
    c = run(rule, o)
    assert [(p.key, p.amount_minor) for p in c.parts] == [("a", 300), ("b", 250), ("c", 200), ("d", 150), ("e", 100)]
    assert c.amount_minor == 1000
    assert "variant v1 rate" in c.explanation and "collection summer rate" in c.explanation


def test_product_rate_is_not_raised_by_a_tier_or_customer_rate():
    rule = Rule("EUR", percent=Decimal("10"), tiers=(Tier(0, Decimal("40")),), new_customer_percent=Decimal("50"),
                product_rates=(ProductRate("product", "p1", Decimal("5")),))
    c = run(rule, order(line("a", product_id="p1"), line("b")), revenue=1, new=True)
    assert [(p.key, p.amount_minor) for p in c.parts] == [("a", 50), ("b", 500)]


def test_a_product_rates_only_rule_pays_nothing_on_other_lines():
    rule = Rule("EUR", product_rates=(ProductRate("sku", "S-1", Decimal("10")),))
    c = run(rule, order(line("a", sku="S-1"), line("b", sku="S-2")))
    assert c.amount_minor == 100
    assert "Line b (SKU S-2): no rate applies" in c.explanation


def test_cap_per_order():
    c = run(Rule("EUR", percent=Decimal("50"), cap_per_order_minor=1000), TEES)
    assert (c.before_caps_minor, c.amount_minor) == (2250, 1000)


def test_cap_per_period_leaves_what_is_not_yet_earned():
    rule = Rule("EUR", percent=Decimal("10"), cap_per_period_minor=1000)
    partly = run(rule, TEES, earned=800)
    assert partly.amount_minor == 200
    assert "capped at 2.00 EUR: 8.00 EUR of the 10.00 EUR per month already earned" in partly.explanation
    assert run(rule, TEES, earned=1200).amount_minor == 0
    assert run(rule, TEES, earned=0).amount_minor == 450


def test_the_tighter_cap_wins():
    rule = Rule("EUR", percent=Decimal("50"), cap_per_order_minor=1000, cap_per_period_minor=5000)
    assert run(rule, TEES, earned=4500).amount_minor == 500
    assert run(rule, TEES, earned=0).amount_minor == 1000


def test_a_capped_total_is_shared_over_the_lines():
    rule = Rule("EUR", percent=Decimal("10"), flat_minor=100, cap_per_order_minor=301)
    c = run(rule, order(line("a", price=1000), line("b", price=2000)))
    assert [(p.key, p.before_caps_minor, p.amount_minor) for p in c.parts] == [("a", 100, 75), ("b", 200, 151), ("flat", 100, 75)]
    assert c.amount_minor == 301


def test_tax_inclusive_prices_pay_on_the_price_without_tax():
    o = order(line("1", 1, 1200, tax_minor=200, price_includes_tax=True), taxes_included=True)
    assert run(Rule("EUR", percent=Decimal("10")), o).amount_minor == 100
    assert run(Rule("EUR", percent=Decimal("10"), include_tax=True), o).amount_minor == 120


def test_tax_on_top_counts_only_when_included():
    o = order(line("1", 1, 1000, tax_minor=190))
    assert run(Rule("EUR", percent=Decimal("10")), o).amount_minor == 100
    assert run(Rule("EUR", percent=Decimal("10"), include_tax=True), o).amount_minor == 119


def test_shipping_counts_only_when_included():
    o = order(line("1", 1, 1000), shipping=490, total=1490)
    assert run(Rule("EUR", percent=Decimal("10")), o).amount_minor == 100
    with_shipping = run(Rule("EUR", percent=Decimal("10"), include_shipping=True), o)
    assert with_shipping.amount_minor == 149
    assert [p.key for p in with_shipping.parts] == ["1", "shipping"]


def test_a_partial_refund_takes_its_units_share():
    refund = Refund(source="generic", order_id="A-1", refund_id="R-1", created_at=PLACED, currency="EUR",
                    lines=(RefundLine("1", 1, 2250),))
    c = run(Rule("EUR", percent=Decimal("10")), TEES, [refund])
    assert c.basis_minor == 2250
    assert c.amount_minor == 225
    assert "Refunded 1 unit(s) of line 1" in c.explanation


def test_a_fully_refunded_order_earns_no_flat_amount():
    refund = Refund(source="generic", order_id="A-1", refund_id="R-1", created_at=PLACED, currency="EUR",
                    lines=(RefundLine("1", 2, 4500),))
    c = run(Rule("EUR", percent=Decimal("10"), flat_minor=200), TEES, [refund])
    assert c.amount_minor == 0
    assert "No flat 2.00 EUR: the order has no basis left" in c.explanation


def test_a_cancelled_order_earns_nothing():
    c = run(Rule("EUR", percent=Decimal("10"), flat_minor=200), order(line(), cancelled_at=PLACED + timedelta(hours=1)))
    assert c.amount_minor == 0 and c.parts == ()
    assert "cancelled" in c.explanation


def test_jpy_has_no_minor_unit_and_rounds_half_to_even():
    rule = Rule("JPY", percent=Decimal("10"), flat_minor=100)
    c = run(rule, order(line("1", 1, 1005), line("2", 1, 1015), currency="JPY"))
    # 100.5 yen -> 100, 101.5 yen -> 102: each line rounded once, half to even.
    assert [p.amount_minor for p in c.parts] == [100, 102, 100]
    assert c.amount_minor == 302
    assert "10 % of the basis 1005 JPY (the rule's rate) = 100 JPY" in c.explanation


def test_each_line_is_rounded_once():
    c = run(Rule("EUR", percent=Decimal("10")), order(line("a", 1, 105), line("b", 1, 105)))
    assert [p.amount_minor for p in c.parts] == [10, 10]  # 10.5 cents each, half to even; not 21 on the whole


def test_four_decimal_places_of_percent():
    assert run(Rule("EUR", percent=Decimal("12.3456")), order(line("1", 1, 100_000))).amount_minor == 12346


def test_an_order_in_another_currency_earns_nothing():
    c = run(Rule("EUR", percent=Decimal("10"), flat_minor=200), order(line(), currency="USD"))
    assert c.amount_minor == 0 and c.parts == ()
    assert "the order is in USD and the campaign pays in EUR; amounts are never converted" in c.explanation


def test_held_for_the_holding_period_from_the_order():
    assert run(Rule("EUR", percent=Decimal("10")), TEES).hold_until == PLACED + timedelta(days=30)
    assert run(Rule("EUR", percent=Decimal("10"), holding_days=0), TEES).hold_until == PLACED
    assert run(Rule("EUR", percent=Decimal("10"), holding_days=14), order(line(), currency="USD")).hold_until == PLACED + timedelta(days=14)


def test_the_cap_period_is_the_calendar_month_in_utc():
    assert period_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    # 00:30 on 1 February in Berlin is still January in UTC.
    berlin = datetime(2026, 2, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert period_of(berlin) == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))


def test_the_tier_window_is_the_whole_utc_days_before_the_orders_day():
    day = PLACED.astimezone(UTC).date()
    assert window_of(Rule("EUR", window_days=7), PLACED) == (day - timedelta(days=7), day)
    # An order late on the 20th in New York is placed on the 21st in UTC: its window ends there.
    late = datetime(2026, 11, 20, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert window_of(Rule("EUR", window_days=1), late) == (date(2026, 11, 20), date(2026, 11, 21))


def test_share_out_is_exact():
    assert share_out([1, 1, 1], 2) == [1, 1, 0]
    assert share_out([5, 0, 5], 0) == [0, 0, 0]
    assert sum(share_out([7, 13, 29], 17)) == 17


# --- properties -------------------------------------------------------------------------------

percents = st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False)
amounts = st.integers(min_value=0, max_value=10**9)
keys = st.sampled_from(["k1", "k2", "k3"])


@st.composite
def rules(draw, currency: str = "EUR") -> Rule:
    thresholds = sorted(draw(st.sets(amounts, max_size=3)))
    return Rule(
        currency=currency,
        percent=draw(st.none() | percents) if not thresholds else draw(percents),
        flat_minor=draw(st.none() | amounts),
        include_tax=draw(st.booleans()),
        include_shipping=draw(st.booleans()),
        tiers=tuple(Tier(t, draw(percents)) for t in thresholds),
        new_customer_percent=draw(st.none() | percents),
        repeat_customer_percent=draw(st.none() | percents),
        product_rates=tuple(draw(st.lists(st.builds(ProductRate, st.sampled_from(["variant", "product", "sku", "collection"]),
                                                    keys, percents), max_size=4))),
        cap_per_order_minor=draw(st.none() | amounts),
        cap_per_period_minor=draw(st.none() | amounts),
        holding_days=draw(st.integers(0, 365)),
    )


@st.composite
def orders(draw) -> tuple[Order, list[Refund]]:
    lines = []
    for index in range(draw(st.integers(0, 5))):
        quantity = draw(st.integers(1, 5))
        price = draw(st.integers(0, 10**7))
        lines.append(LineItem(
            line_id=str(index), quantity=quantity, unit_price_minor=price,
            discount_minor=draw(st.integers(0, price * quantity)), tax_minor=draw(st.integers(0, 10**6)),
            price_includes_tax=draw(st.booleans()), product_id=draw(st.none() | keys), variant_id=draw(st.none() | keys),
            sku=draw(st.none() | keys), collections=tuple(draw(st.lists(keys, max_size=2))),
        ))
    o = Order(source="generic", order_id="P", placed_at=PLACED, currency=draw(st.sampled_from(["EUR", "EUR", "EUR", "USD"])),
              lines=tuple(lines), shipping_minor=draw(st.none() | amounts), total_minor=draw(st.none() | amounts))
    refunds = [Refund(source="generic", order_id="P", refund_id=f"R{i}", created_at=PLACED, currency=o.currency,
                      lines=tuple(RefundLine(str(draw(st.integers(0, 5))), draw(st.integers(1, 5)), 0) for _ in range(2)),
                      shipping_minor=draw(st.integers(0, 1000)), adjustment_minor=draw(st.integers(0, 1000)))
               for i in range(draw(st.integers(0, 2)))]
    return o, refunds


inputs = st.tuples(rules(), orders(), st.integers(-10**6, 10**9), st.booleans(), st.integers(-10**6, 10**9))


@settings(max_examples=400, deadline=None)
@given(inputs)
def test_never_negative_never_above_the_caps_and_the_parts_add_up(case):
    rule, (o, refunds), revenue, new, earned = case
    c = compute(rule, o, refunds, revenue_in_window=revenue, new_customer=new, earned_in_period=earned)
    assert c.amount_minor >= 0
    assert c.amount_minor == sum(p.amount_minor for p in c.parts)
    assert all(0 <= p.amount_minor <= p.before_caps_minor for p in c.parts)
    if rule.cap_per_order_minor is not None:
        assert c.amount_minor <= rule.cap_per_order_minor
    if rule.cap_per_period_minor is not None:
        assert c.amount_minor <= max(rule.cap_per_period_minor - max(earned, 0), 0)
    if o.currency != rule.currency:
        assert c.amount_minor == 0
    assert c.hold_until == o.placed_at + timedelta(days=rule.holding_days)


@settings(max_examples=200, deadline=None)
@given(inputs)
def test_deterministic(case):
    rule, (o, refunds), revenue, new, earned = case
    first = compute(rule, o, refunds, revenue_in_window=revenue, new_customer=new, earned_in_period=earned)
    again = compute(rule, o, list(refunds), revenue_in_window=revenue, new_customer=new, earned_in_period=earned)
    assert first == again


@settings(max_examples=200, deadline=None)
@given(inputs)
def test_without_caps_the_total_is_the_sum_of_the_rounded_lines(case):
    rule, (o, refunds), revenue, new, earned = case
    rule = Rule(**{**{f: getattr(rule, f) for f in rule.__slots__}, "cap_per_order_minor": None, "cap_per_period_minor": None})
    c = compute(rule, o, refunds, revenue_in_window=revenue, new_customer=new, earned_in_period=earned)
    assert c.amount_minor == c.before_caps_minor
