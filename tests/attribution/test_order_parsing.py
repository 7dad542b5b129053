"""Partner order messages into attribution's order model, and the commission basis with its
explanation: Shopify's order and refund payloads (tests/attribution/data/shopify) and the
generic format. Pure: no database."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.attribution.orders import generic, shopify
from services.attribution.orders.basis import commission_basis
from services.attribution.orders.model import Cancellation, LineItem, Order, PayloadError, Refund, RefundLine, customer_hash

DATA = Path(__file__).parent / "data" / "shopify"
KEY = customer_hash(b"test-secret-of-32-bytes-exactly!")


def body(name: str) -> str:
    return (DATA / name).read_text()


def order_of(name: str, topic: str = "orders/create"):
    parsed = shopify.parse(topic, body(name), KEY)
    assert parsed is not None and isinstance(parsed.message, Order)
    return parsed


def test_a_shopify_order_is_read_exactly_with_its_code_click_and_customer_hash():
    parsed = order_of("orders-create-usd-code-and-click.json")
    order = parsed.message
    assert (order.source, order.order_id, order.currency) == ("shopify", "5810000000001", "USD")
    assert order.codes == ("MAYA15",)
    assert order.click_ids == ("c_7QpXk2mZr9",)  # in the landing URL and the note attributes: once
    assert order.referring_site == "https://l.instagram.com/"
    assert (order.subtotal_minor, order.discounts_minor, order.tax_minor, order.shipping_minor, order.total_minor) == (
        5950, 1050, 476, 500, 6926)
    first, second = order.lines
    assert (first.line_id, first.quantity, first.unit_price_minor, first.discount_minor, first.tax_minor, first.sku) == (
        "13600000000001", 2, 2500, 750, 340, "TEE-BLK-M")
    assert (second.product_id, second.variant_id) == ("8100000000002", "4400000000002")
    assert order.placed_at.isoformat() == "2026-11-20T10:15:00-05:00"
    # The e-mail is kept only as a keyed hash, the same for any spelling of it.
    assert order.customer_key == KEY("email:ann.buyer@example.com")
    assert "Ann" not in json.dumps(repr(order)) and "example.com" not in repr(order).lower()
    assert parsed.notes == ()  # its totals add up


def test_the_default_basis_is_the_lines_net_of_discounts_without_tax_and_shipping():
    order = order_of("orders-create-usd-code-and-click.json").message
    basis = commission_basis(order)
    assert basis.amount_minor == 5950
    assert basis.explanation == ("basis 59.50 USD = line items 70.00 USD, less discounts 10.50 USD "
                                 "(tax and shipping not counted).")
    with_all = commission_basis(order, include_tax=True, include_shipping=True)
    assert with_all.amount_minor == 5950 + 476 + 500


def test_a_tax_inclusive_order_takes_the_tax_out_of_the_basis():
    order = order_of("orders-create-eur-taxes-included.json").message
    assert order.taxes_included and order.codes == ("lena10",)
    assert order.click_ids == ("c_Hh3Tn8wQ2d",)
    basis = commission_basis(order)
    assert basis.amount_minor == 4500  # 60.00 - 6.00 discount - 9.00 VAT inside the price
    assert "less the tax included in the prices 9.00 EUR" in basis.explanation
    assert commission_basis(order, include_tax=True).amount_minor == 5400


def test_a_currency_without_minor_units_is_read_in_whole_units():
    parsed = order_of("orders-create-jpy.json")
    order = parsed.message
    assert order.currency == "JPY" and order.total_minor == 7800 and order.lines[0].unit_price_minor == 3500
    assert order.click_ids == ("c_J9kLm3Np0q",)  # a note attribute
    assert order.customer_key == KEY("shopify-customer:7200000000003")  # no e-mail: the customer id
    assert commission_basis(order).amount_minor == 7000 - 636
    assert "basis 6364 JPY" in commission_basis(order).explanation


def test_a_partial_refund_reduces_the_basis_by_the_units_returned():
    order = order_of("orders-create-usd-code-and-click.json").message
    parsed = shopify.parse("refunds/create", body("refunds-create-usd-partial.json"), KEY)
    refund = parsed.message
    assert isinstance(refund, Refund)
    assert (refund.order_id, refund.refund_id, refund.currency) == ("5810000000001", "9300000000001", "USD")
    assert refund.lines == (RefundLine("13600000000001", 1, 2125, 170),)
    assert refund.shipping_minor == 500 and refund.adjustment_minor == 0
    basis = commission_basis(order, [refund])
    assert basis.before_refunds_minor == 5950
    assert basis.amount_minor == 5950 - 2125  # one of two tees: half the line's 42.50
    assert "Refunded 1 unit(s) of line 13600000000001: basis less 21.25 USD." in basis.explanation
    # Shipping is not in the default basis, so its refund changes nothing; with shipping it does.
    assert commission_basis(order, [refund], include_shipping=True).amount_minor == 5950 - 2125
    assert commission_basis(order).amount_minor - commission_basis(order, [refund]).amount_minor == 2125


MONEY_ONLY_REFUND_EUR_CUSTOMER = {
    # Shopify Markets: the shop sells in USD, this customer paid in EUR. A refund of money alone
    # (no line items): its adjustment in shop and presentment money, its transaction in EUR.
    "id": 9300000000009, "order_id": 5810000000001, "created_at": "2026-11-21T10:00:00-05:00", "refund_line_items": [],
    "order_adjustments": [{"id": 1, "kind": "refund_discrepancy", "amount": "-10.00", "amount_set": {
        "shop_money": {"amount": "-10.00", "currency_code": "USD"}, "presentment_money": {"amount": "-9.20", "currency_code": "EUR"}}}],
    "transactions": [{"id": 1, "kind": "refund", "status": "success", "amount": "9.20", "currency": "EUR"}],
}


def test_a_refund_in_the_customers_currency_is_read_in_shop_money():
    """Found trying real Shopify payloads: on an order paid in another currency than the shop's,
    a refund with no line items took its currency from its EUR transaction, then refused its USD
    shop-money adjustment; and every later update of the order, which repeats its refunds, was
    dead-lettered with it."""
    order = order_of("orders-create-usd-code-and-click.json").message
    parsed = shopify.parse("refunds/create", json.dumps(MONEY_ONLY_REFUND_EUR_CUSTOMER), KEY)
    refund = parsed.message
    assert (refund.currency, refund.lines, refund.adjustment_minor) == ("USD", (), 1000)
    assert commission_basis(order, [refund]).amount_minor < commission_basis(order).amount_minor
    later = json.loads(body("orders-create-usd-code-and-click.json")) | {
        "presentment_currency": "EUR", "cancelled_at": "2026-11-22T10:00:00-05:00", "refunds": [MONEY_ONLY_REFUND_EUR_CUSTOMER]}
    cancelled = shopify.parse("orders/cancelled", json.dumps(later), KEY).message
    assert [(r.refund_id, r.currency, r.adjustment_minor) for r in cancelled.refunds] == [("9300000000009", "USD", 1000)]
    # With no shop money anywhere, a refund inside its order is in the order's currency.
    bare = MONEY_ONLY_REFUND_EUR_CUSTOMER | {"order_adjustments": [{"id": 1, "kind": "refund_discrepancy", "amount": "-10.00"}]}
    inside = shopify.parse("orders/updated", json.dumps(later | {"cancelled_at": None, "refunds": [bare]}), KEY).message
    assert [(r.currency, r.adjustment_minor) for r in inside.refunds] == [("USD", 1000)]


def test_a_cancelled_order_carries_its_refunds_and_ends_at_a_zero_basis():
    parsed = order_of("orders-cancelled-usd.json", "orders/cancelled")
    order = parsed.message
    assert order.cancelled_at is not None and order.financial_status == "refunded"
    assert [r.refund_id for r in order.refunds] == ["9300000000001", "9300000000002"]
    assert commission_basis(order, order.refunds).amount_minor == 0


def test_totals_that_do_not_add_up_are_kept_as_sent_and_noted():
    parsed = order_of("orders-create-usd-totals-disagree.json")
    assert parsed.message.subtotal_minor == 5850 and parsed.message.total_minor == 7000
    assert any("subtotal_price 58.50 USD is not the line items less their discounts (59.50 USD)" in n for n in parsed.notes)
    assert any("total_price 70.00 USD" in n for n in parsed.notes)
    assert commission_basis(parsed.message).amount_minor == 5950  # from the lines, always


def test_topics_that_are_not_orders_are_not_parsed():
    assert shopify.parse("customers/redact", "{}", KEY) is None
    assert shopify.parse(None, "{}", KEY) is None


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d.pop("currency"), "currency"),
    (lambda d: d.update(currency="usd"), "currency"),
    (lambda d: d.update(currency="XAU"), "currency"),
    (lambda d: d.pop("id"), "id"),
    (lambda d: d["line_items"][0].update(quantity=-1), "line_items[0].quantity"),
    (lambda d: d["line_items"][0].update(quantity="2"), "line_items[0].quantity"),
    (lambda d: d["line_items"][1]["price_set"]["shop_money"].update(amount="20.005"), "line_items[1].price_set.shop_money.amount"),
    (lambda d: d["line_items"][1].update(price_set=None, price="-1.00"), "line_items[1].price"),
    # Decimal() would read these; a partner's amount is plain ASCII digits (found by an outside probe)
    (lambda d: d["line_items"][1].update(price_set=None, price="1e3"), "line_items[1].price"),
    (lambda d: d["line_items"][1].update(price_set=None, price=" 20.00"), "line_items[1].price"),
    (lambda d: d["line_items"][1].update(price_set=None, price="\uff12\uff10.00"), "line_items[1].price"),
    (lambda d: d["line_items"][1].update(price_set=None, price="20."), "line_items[1].price"),
    (lambda d: d["line_items"][0]["price_set"]["shop_money"].update(currency_code="EUR"), "line_items[0].price_set.shop_money.currency_code"),
    (lambda d: d.update(created_at="yesterday"), "created_at"),
    (lambda d: d.update(line_items={"a": 1}), "line_items"),
    (lambda d: d.update(discount_codes=[{"code": 15}]), "discount_codes[0].code"),
])
def test_a_payload_that_cannot_be_understood_names_the_field(mutate, field):
    data = json.loads(body("orders-create-usd-code-and-click.json"))
    mutate(data)
    with pytest.raises(PayloadError) as caught:
        shopify.parse("orders/create", json.dumps(data), KEY)
    assert caught.value.field == field


def test_not_json_or_not_an_object_is_a_payload_error():
    for text in ("not json", "[1, 2]", '"x"', "{" * 100_000):
        with pytest.raises(PayloadError) as caught:
            shopify.parse("orders/create", text, KEY)
        assert caught.value.field == "body"


GENERIC_ORDER = {
    "type": "order", "order_id": "A-1001", "placed_at": "2026-11-20T10:00:00Z", "currency": "EUR",
    "customer": "cust-42", "codes": ["MAYA15"], "click_id": "c_abc", "landing_url": "https://shop.example/?ll_click=c_def",
    "prices_include_tax": False,
    "line_items": [{"id": "1", "product_id": "p-1", "variant_id": "v-1", "sku": "TEE-M", "collections": ["summer"],
                    "quantity": 2, "unit_price": "25.00", "discount": "5.00", "tax": "9.00"}],
    "totals": {"subtotal": "45.00", "discount": "5.00", "tax": "9.00", "shipping": "4.90", "total": "58.90"},
    "future_field": {"ignored": True},
}


def test_the_generic_format_order_refund_and_cancellation():
    order = generic.parse(json.dumps(GENERIC_ORDER), KEY).message
    assert isinstance(order, Order)
    assert order.click_ids == ("c_abc", "c_def") and order.codes == ("MAYA15",)
    assert order.lines[0].collections == ("summer",) and order.customer_key == KEY("partner-customer:cust-42")
    assert commission_basis(order).amount_minor == 4500
    refund = generic.parse(json.dumps({
        "type": "refund", "refund_id": "R-1", "order_id": "A-1001", "created_at": "2026-11-21T10:00:00Z", "currency": "EUR",
        "line_items": [{"id": "1", "quantity": 1, "amount": "20.00", "tax": "4.00"}], "shipping": "4.90"}), KEY).message
    assert isinstance(refund, Refund) and refund.lines[0].quantity == 1 and refund.shipping_minor == 490
    assert commission_basis(order, [refund]).amount_minor == 2250
    cancel = generic.parse(json.dumps({"type": "cancellation", "order_id": "A-1001", "cancelled_at": "2026-11-22T00:00:00Z"}), KEY).message
    assert isinstance(cancel, Cancellation) and cancel.order_id == "A-1001"


@pytest.mark.parametrize(("change", "field"), [
    ({"type": "invoice"}, "type"),
    ({"currency": "EURO"}, "currency"),
    ({"placed_at": None}, "placed_at"),
    ({"codes": "MAYA15"}, "codes"),
    ({"customer": 42}, "customer"),
    ({"totals": {"total": "58.905"}}, "totals.total"),
    ({"line_items": [{"id": "1", "quantity": 1, "unit_price": "-3.00"}]}, "line_items[0].unit_price"),
    ({"line_items": [{"id": "1", "quantity": 1}]}, "line_items[0].unit_price"),
    ({"line_items": [{"id": "1", "quantity": 1, "unit_price": 1.555}]}, "line_items[0].unit_price"),
])
def test_a_generic_payload_error_names_the_field(change, field):
    with pytest.raises(PayloadError) as caught:
        generic.parse(json.dumps({**GENERIC_ORDER, **change}), KEY)
    assert caught.value.field == field


def test_a_json_number_with_a_point_is_read_exactly_never_as_a_float():
    # JSON numbers with a point are read as Decimal, so 1.10 is 110 cents, not 110.00000000000001.
    text = json.dumps({**GENERIC_ORDER, "line_items": [{"id": "1", "quantity": 3, "unit_price": 0}]}).replace(
        '"unit_price": 0', '"unit_price": 1.10')
    assert generic.parse(text, KEY).message.lines[0].unit_price_minor == 110


def test_the_customer_hash_needs_a_real_secret_and_is_keyed():
    with pytest.raises(ValueError):
        customer_hash(b"short")
    other = customer_hash(b"another-secret-of-32-bytes-long!")
    assert KEY("email:a@b.c") != other("email:a@b.c") and KEY("email:a@b.c") == KEY(" EMAIL:A@B.C ")


lines = st.lists(
    st.tuples(st.integers(1, 5), st.integers(0, 100_000), st.integers(0, 100), st.integers(0, 5)), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(lines, st.booleans())
def test_refunded_parts_never_exceed_the_line_and_add_up(spec, include_tax):
    order = Order(source="generic", order_id="o", placed_at=__import__("datetime").datetime(2026, 1, 1,
                  tzinfo=__import__("datetime").UTC), currency="EUR",
                  lines=tuple(LineItem(str(i), q, p, min(d * p // 100, p * q), 0) for i, (q, p, d, _) in enumerate(spec)))
    refunds = [Refund("generic", "o", f"r{i}", order.placed_at, "EUR", (RefundLine(str(i), r, 0),))
               for i, (_, _, _, r) in enumerate(spec) if r]
    basis = commission_basis(order, refunds, include_tax=include_tax)
    assert 0 <= basis.amount_minor <= basis.before_refunds_minor
    assert basis.amount_minor == sum(lb.basis_minor for lb in basis.lines)
    for lb, (q, _, _, r) in zip(basis.lines, spec, strict=True):
        assert 0 <= lb.refunded_minor <= lb.net_minor
        if r >= q:
            assert lb.basis_minor == 0
    assert Decimal(basis.amount_minor) == Decimal(sum(lb.net_minor - lb.refunded_minor for lb in basis.lines))


def test_the_documented_generic_format_is_what_attribution_reads():
    """shared/contracts/partner_orders.py (OpenAPI, AsyncAPI) and orders/generic.py agree: every
    documented example parses, and every key the parser reads is a documented field."""
    import re

    from shared.contracts.partner_orders import GENERIC_MESSAGES, GenericLineItem, GenericOrder, GenericRefundLine, GenericTotals

    for model in GENERIC_MESSAGES:
        for example in model.model_config["json_schema_extra"]["examples"]:
            model.model_validate(example)
            generic.parse(json.dumps(example), KEY)
    GenericOrder.model_validate(GENERIC_ORDER)
    documented = {name for model in (*GENERIC_MESSAGES, GenericLineItem, GenericRefundLine, GenericTotals)
                  for name in model.model_fields}
    source = Path(generic.__file__).read_text()
    read = set(re.findall(r'\.get\("(\w+)"\)', source)) | set(re.findall(r'need\(\w+, "(\w+)"', source))
    assert read and read <= documented, read - documented


ADDRESS = {"first_name": "Ann", "last_name": "Buyer", "address1": "1 Market St", "city": "San Francisco", "zip": "94105",
           "province": "California", "country": "United States", "country_code": "US", "province_code": "CA",
           "phone": "+1 555 0100", "name": "Ann Buyer"}


def test_a_shopify_order_keeps_where_it_ships_and_nothing_else_of_the_address():
    data = json.loads(body("orders-create-usd-code-and-click.json"))
    data["shipping_address"] = ADDRESS
    parsed = shopify.parse("orders/create", json.dumps(data), KEY)
    order = parsed.message
    assert (order.shipping_country, order.shipping_region) == ("US", "US-CA")
    assert parsed.notes == ()
    kept = repr(order)
    assert all(part not in kept for part in ("Market", "Francisco", "94105", "Ann", "555"))


def test_an_order_without_a_shipping_address_ships_nowhere_known():
    order = order_of("orders-create-usd-code-and-click.json").message
    assert (order.shipping_country, order.shipping_region) == (None, None)


@pytest.mark.parametrize(("address", "kept", "note"), [
    ({"country_code": "us", "province_code": "ca"}, ("US", "US-CA"), None),
    ({"country_code": "DE", "province_code": "DE-BY"}, ("DE", "DE-BY"), None),
    ({"country_code": "GB"}, ("GB", None), None),
    ({"country_code": "USA", "province_code": "CA"}, (None, None), "shipping_address.country_code 'USA' is not an ISO 3166-1"),
    ({"country_code": "US", "province_code": "California"}, ("US", None), "shipping_address.province_code 'California' is not"),
    ({"country_code": "US", "province_code": "FR-IDF"}, ("US", None), "is not a subdivision code of US"),
    ({"country_code": 840}, (None, None), "shipping_address.country_code 840 is not"),
    ("1 Market St", (None, None), "shipping_address is not an object"),
])
def test_an_odd_shipping_address_costs_its_place_never_the_order(address, kept, note):
    data = json.loads(body("orders-create-usd-code-and-click.json"))
    data["shipping_address"] = address
    parsed = shopify.parse("orders/create", json.dumps(data), KEY)
    assert (parsed.message.shipping_country, parsed.message.shipping_region) == kept
    about = [n for n in parsed.notes if n.startswith("shipping_address")]
    assert (about == []) if note is None else (len(about) == 1 and note in about[0])


def test_the_generic_format_reads_the_shipping_country_and_region():
    parsed = generic.parse(json.dumps({**GENERIC_ORDER, "shipping_address": {
        "country_code": "DE", "province_code": "BY", "street": "Marienplatz 1", "name": "Ann"}}), KEY)
    assert (parsed.message.shipping_country, parsed.message.shipping_region) == ("DE", "DE-BY")
    assert "Marienplatz" not in repr(parsed) and parsed.notes == ()
    odd = generic.parse(json.dumps({**GENERIC_ORDER, "shipping_address": {"country_code": "Germany"}}), KEY)
    assert odd.message.shipping_country is None and odd.notes[0].startswith("shipping_address.country_code 'Germany'")


def test_a_gift_card_line_is_read_and_flagged():
    data = json.loads(body("orders-create-usd-code-and-click.json"))
    data["line_items"].append({
        "id": 13600000000009, "quantity": 1, "price": "50.00", "gift_card": True, "title": "Gift card",
        "discount_allocations": [], "tax_lines": [],
    })
    order = shopify.parse("orders/create", json.dumps(data), KEY).message
    assert [line.gift_card for line in order.lines] == [False, False, True]


@pytest.mark.parametrize("refund_id", ["cancelled", "limelight-recompute:r2", "R-1|x"])
def test_a_refund_may_not_take_a_name_the_ledger_keeps_for_itself(refund_id):
    """Found reviewing settlement: a generic refund named "cancelled" passed for the cancellation's
    claim (the cancellation then clawed nothing back), and "A|B" for the parts of a split refund A."""
    generic_refund = {"type": "refund", "refund_id": refund_id, "order_id": "A-1001", "created_at": "2026-11-21T10:00:00Z",
                      "currency": "EUR", "line_items": [{"id": "1", "quantity": 1, "amount": "20.00"}]}
    with pytest.raises(PayloadError) as refused:
        generic.parse(json.dumps(generic_refund), KEY)
    assert refused.value.field == "refund_id" and refused.value.reason.startswith("reserved")
    data = json.loads(body("refunds-create-usd-partial.json")) | {"id": refund_id}
    with pytest.raises(PayloadError) as refused:
        shopify.parse("refunds/create", json.dumps(data), KEY)
    assert refused.value.field == "id"
    assert generic.parse(json.dumps(generic_refund | {"refund_id": "cancelled-2"}), KEY).message.refund_id == "cancelled-2"


def test_the_reserved_refund_names_are_the_ledgers():
    from services.attribution.crediting.service import CANCELLED
    from services.attribution.orders.reading import RESERVED_REFUND_IDS, RESERVED_REFUND_PREFIX

    assert CANCELLED in RESERVED_REFUND_IDS  # a re-credit's claims are named from RESERVED_REFUND_PREFIX itself
    assert RESERVED_REFUND_PREFIX == "limelight-"  # the claims already in ledgers start so
