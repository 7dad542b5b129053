"""What a partner's order carries that PostgreSQL cannot store as sent: NUL characters (text and
JSON values cannot hold U+0000) and matching values longer than the columns that keep them.
Free text keeps everything but the NUL; a value matched against ours (a code, a click id, a SKU, a
collection) that none of ours can equal is left out with a note; an identifier holding NUL makes
the message unreadable, dead-lettered with the field. Before, each of them failed the order's
INSERT: the delivery was dead-lettered with PostgreSQL's error instead of a field, or, for a free
text, a good order was lost."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from services.attribution.orders import generic, reading, shopify
from services.attribution.orders.model import PayloadError, customer_hash
from services.attribution.privacy import shopify as privacy_webhooks
from shared.contracts.gateway import WebhookReceived
from shared.contracts.catalog import dlq_topic
from tests.attribution.test_orders_e2e import DATA, deliver_shopify, new_order_id, order_named, with_order_id
from tests.conftest import eventually, records_on
from tests.gateway.webhooks.conftest import create_generic_source, create_shopify_source, generic_headers

KEY = customer_hash(b"test-secret-of-32-bytes-exactly!")
LONG_CLICK = "k" * 300


def shopify_order_with_odd_values(order_id: int) -> dict:
    data = with_order_id(json.loads((DATA / "orders-create-usd-code-and-click.json").read_text()), order_id)
    data["line_items"][0]["title"] = "Black\u0000 tee"
    data["line_items"][1]["sku"] = "CAP\u0000RED"
    data["discount_codes"].append({"code": "MAYA\u000016", "amount": "0.00", "type": "fixed_amount"})
    data["landing_site"] += "&ll_click=%00x"
    data["note_attributes"].append({"name": "_ll_click", "value": LONG_CLICK})
    return data


def test_free_text_loses_only_its_nul_and_values_no_code_or_click_can_equal_are_noted():
    parsed = shopify.parse("orders/create", json.dumps(shopify_order_with_odd_values(1)), KEY)
    order = parsed.message
    assert order.lines[0].title == "Black tee"
    assert order.lines[1].sku is None and order.lines[0].sku == "TEE-BLK-M"
    assert order.codes == ("MAYA15",) and order.click_ids == ("c_7QpXk2mZr9",)
    assert "\x00" not in json.dumps([order.landing_site, order.referring_site])
    notes = "\n".join(parsed.notes)
    for field in ("line_items[1].sku", "discount_codes", "click ids"):
        assert f"{field}: " in notes, notes
    assert "holding NUL" in notes and "longer than 255 characters" in notes
    assert "\x00" not in notes  # a note is stored too


def test_the_generic_format_keeps_its_good_values_beside_the_odd_ones():
    body = {"type": "order", "order_id": "A-1", "placed_at": "2026-11-20T10:00:00Z", "currency": "EUR",
            "codes": [" MAYA15 ", "MAYA\u000015", "x" * 256], "click_id": LONG_CLICK,
            "landing_url": "https://shop.example/p?ll_click=c_1",
            "line_items": [{"id": "1", "quantity": 1, "unit_price": "10.00", "title": "T\u0000ee",
                            "collections": ["summer", "sum\u0000mer", "summer"]}]}
    parsed = generic.parse(json.dumps(body), KEY)
    order = parsed.message
    assert order.codes == ("MAYA15",) and order.click_ids == ("c_1",)
    assert order.lines[0].collections == ("summer",) and order.lines[0].title == "Tee"
    assert len(parsed.notes) == 4, parsed.notes


@pytest.mark.parametrize("mutate, field", [
    (lambda b: b.update(order_id="A\u00001"), "order_id"),
    (lambda b: b["line_items"][0].update(id="1\u0000"), "line_items[0].id"),
    (lambda b: b["line_items"][0].update(product_id="p\u0000"), "line_items[0].product_id"),
])
def test_an_identifier_holding_nul_is_a_payload_error_naming_it(mutate, field):
    body = {"type": "order", "order_id": "A-1", "placed_at": "2026-11-20T10:00:00Z", "currency": "EUR",
            "line_items": [{"id": "1", "quantity": 1, "unit_price": "10.00"}]}
    mutate(body)
    with pytest.raises(PayloadError) as raised:
        generic.parse(json.dumps(body), KEY)
    assert raised.value.field == field and "NUL" in raised.value.reason


def test_a_lone_surrogate_is_treated_as_nul_and_a_click_id_is_read_from_the_url_as_sent():
    body = {"type": "order", "order_id": "A-1", "placed_at": "2026-11-20T10:00:00Z", "currency": "EUR",
            "customer": "cust\ud800", "codes": ["M\udc00", "OK"],
            "landing_url": "https://shop.example/p\u0000x?ll_click=c\u00001&x=1",
            "line_items": [{"id": "1", "quantity": 1, "unit_price": "10.00", "title": "T\ud800ee"}]}
    parsed = generic.parse(json.dumps(body), KEY)
    order = parsed.message
    assert order.codes == ("OK",) and order.lines[0].title == "Tee" and order.customer_key is not None
    # The click id holding a raw NUL is left out, never matched as "c1" with the NUL dropped.
    assert order.click_ids == () and order.landing_site == "https://shop.example/px?ll_click=c1&x=1"
    with pytest.raises(PayloadError) as raised:
        generic.parse(json.dumps({**body, "order_id": "A\udc00"}), KEY)
    assert raised.value.field == "order_id"


def test_keys_keep_order_and_drop_only_what_can_match_nothing():
    notes: list[str] = []
    assert reading.keys(["b", None, "", "a", "b", "c" * 255, "c" * 256], "codes", notes) == ("b", "a", "c" * 255)
    assert len(notes) == 1


@pytest.mark.integration
@pytest.mark.asyncio
async def test_an_order_with_values_postgres_cannot_hold_is_stored_and_an_id_holding_nul_dead_lettered(
        gateway, anonymous, platform):
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    await deliver_shopify(anonymous, source, "orders/create", shopify_order_with_odd_values(order_id))
    order = await eventually(lambda: order_named(gateway, str(order_id)))
    assert order["codes"] == ["MAYA15"] and order["click_ids"] == ["c_7QpXk2mZr9"]
    assert [line["sku"] for line in order["lines"]] == ["TEE-BLK-M", None]
    assert any("holding NUL" in note for note in order["notes"]), order["notes"]

    partner = await create_generic_source(gateway)
    body = json.dumps({"type": "order", "order_id": "N\u0000UL", "placed_at": "2026-11-20T10:00:00Z", "currency": "EUR",
                       "line_items": [{"id": "1", "quantity": 1, "unit_price": "10.00"}]}).encode()
    response = await anonymous.post(f"/webhooks/generic/{partner.id}", content=body,
                                    headers=generic_headers(partner.secret, body, event="order"))
    assert response.status_code == 200, response.text

    async def dead_lettered():
        return await records_on(platform, dlq_topic("gateway.webhook.v1", "attribution"), partner.id.encode()) or None

    letters = await eventually(dead_lettered)
    error = dict(letters[-1].headers)["dlq.error"].decode()
    assert "order_id: contains NUL" in error, error


def test_a_store_privacy_webhook_acts_on_the_order_ids_an_order_could_be_stored_under():
    """A mandatory erasure is not dead-lettered for an id no order could have (NUL, a lone
    surrogate, over 255 characters): those have nothing to erase; the others are erased."""
    body = {"shop_domain": "s.myshopify.com", "customer": {"id": 7, "email": "ann@example.com"},
            "orders_to_redact": [123, " 456 ", "7\u00008", "x" * 300, "9\udc00"]}
    delivery = WebhookReceived(delivery_id="d-1", partner_id="s.myshopify.com", source="shopify",
                               source_id=uuid.uuid4(), topic="customers/redact", received_at=datetime.now(UTC),
                               content_type="application/json", body=json.dumps(body))
    assert privacy_webhooks.request_of(delivery).subject.order_ids == ["123", "456"]
