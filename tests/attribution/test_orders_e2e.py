"""Partner orders end to end: deliveries signed as Shopify (or the generic format) signs them,
posted to the gateway, published on gateway.webhook.v1, consumed by attribution and read back
through the gateway — duplicates, out-of-order arrival, cancellations, unreadable payloads."""

import json
import uuid
from pathlib import Path

import pytest

from shared.contracts.catalog import dlq_topic
from tests.conftest import eventually, records_on
from tests.gateway.webhooks.conftest import create_generic_source, create_shopify_source, generic_headers, shopify_headers

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

DATA = Path(__file__).parent / "data" / "shopify"
ORDERS = "/v1/attribution/orders"


def fixture(name: str, **changes) -> dict:
    data = json.loads((DATA / name).read_text())
    data.update(changes)
    return data


def with_order_id(data: dict, order_id: int) -> dict:
    """The same payload for another order (each test its own), its refunds pointing at it."""
    data = json.loads(json.dumps(data))
    if "order_id" in data:
        data["order_id"] = order_id
    else:
        data["id"] = order_id
        for refund in data.get("refunds", []):
            refund["order_id"] = order_id
    return data


async def deliver_shopify(anonymous, source, topic: str, data: dict, webhook_id: str | None = None) -> None:
    body = json.dumps(data, indent=2, ensure_ascii=False).encode()
    response = await anonymous.post(
        f"/webhooks/shopify/{source.id}", content=body,
        headers=shopify_headers(source.secret, body, topic=topic, shop=source.shop_domain, webhook_id=webhook_id))
    assert response.status_code == 200, response.text


async def order_named(client, order_id: str, source: str = "shopify") -> dict | None:
    """The order the partner calls `order_id`, read back through the gateway (None: not there)."""
    cursor = None
    while True:
        response = await client.get(ORDERS, params={"source": source, "limit": 200, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        for item in page["items"]:
            if item["partner_order_id"] == order_id:
                detail = await client.get(f"{ORDERS}/{item['id']}")
                assert detail.status_code == 200, detail.text
                return detail.json()
        cursor = page["next_cursor"]
        if cursor is None:
            return None


def new_order_id() -> int:
    return 6_000_000_000_000 + uuid.uuid4().int % 10**12


async def test_a_signed_shopify_order_becomes_an_order_with_its_basis_explained(gateway, anonymous, other_gateway):
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    await deliver_shopify(anonymous, source, "orders/create", with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id))

    order = await eventually(lambda: order_named(gateway, str(order_id)))
    assert order["source_id"] == source.id and order["currency"] == "USD" and order["state"] == "open"
    assert order["codes"] == ["MAYA15"] and order["click_ids"] == ["c_7QpXk2mZr9"]
    assert (order["subtotal_minor"], order["tax_minor"], order["shipping_minor"], order["total_minor"]) == (5950, 476, 500, 6926)
    assert order["basis_minor"] == 5950
    assert order["basis_explanation"].startswith("basis 59.50 USD = line items 70.00 USD, less discounts 10.50 USD")
    assert [line["sku"] for line in order["lines"]] == ["TEE-BLK-M", "CAP-RED"]
    # The customer is a keyed hash: no e-mail, no Shopify customer id anywhere in the answer.
    text = json.dumps(order).lower()
    assert len(order["customer_key"]) == 64 and "example.com" not in text and "7200000000001" not in text
    # Another workspace sees nothing of it.
    assert (await other_gateway.get(f"{ORDERS}/{order['id']}")).status_code == 404
    assert await order_named(other_gateway, str(order_id)) is None


async def test_a_refund_before_its_order_and_repeated_deliveries_end_in_the_same_state(gateway, anonymous):
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    refund = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)
    refund["id"] = new_order_id()
    order = with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id)
    # The refund first, twice with two webhook ids (a partner re-sending); then the order, twice.
    await deliver_shopify(anonymous, source, "refunds/create", refund)
    await deliver_shopify(anonymous, source, "refunds/create", refund)
    await deliver_shopify(anonymous, source, "orders/create", order)
    await deliver_shopify(anonymous, source, "orders/create", order)

    async def refunded():
        found = await order_named(gateway, str(order_id))
        return found if found and found["refunds"] else None

    found = await eventually(refunded)
    assert len(found["refunds"]) == 1 and found["refunds"][0]["shipping_minor"] == 500
    assert found["basis_before_refunds_minor"] == 5950 and found["basis_minor"] == 5950 - 2125
    assert "Refunded 1 unit(s) of line 13600000000001: basis less 21.25 USD." in found["basis_explanation"]
    # One order row for it, however many orders the workspace has (every page read).
    listed, cursor = [], None
    while True:
        page = (await gateway.get(ORDERS, params={"source": "shopify", "limit": 200, **({"cursor": cursor} if cursor else {})})).json()
        listed += page["items"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert sum(1 for item in listed if item["partner_order_id"] == str(order_id)) == 1


async def test_an_older_update_does_not_overwrite_a_newer_one_and_a_cancellation_sticks(gateway, anonymous):
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    cancelled = with_order_id(fixture("orders-cancelled-usd.json"), order_id)
    for refund in cancelled["refunds"]:
        refund["id"] = new_order_id()
    created = with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id)  # updated_at earlier
    await deliver_shopify(anonymous, source, "orders/cancelled", cancelled)
    await deliver_shopify(anonymous, source, "orders/create", created)
    # One source's deliveries are one partition's, applied in order: once a later marker order is
    # there, the late orders/create has been applied too.
    marker = new_order_id()
    await deliver_shopify(anonymous, source, "orders/create", with_order_id(fixture("orders-create-jpy.json"), marker))
    await eventually(lambda: order_named(gateway, str(marker)))

    found = await order_named(gateway, str(order_id))
    # The late orders/create changed nothing: the newer data (refunded, cancelled) is kept.
    assert found["state"] == "cancelled" and len(found["refunds"]) == 2
    assert found["financial_status"] == "refunded" and found["cancelled_at"] is not None
    assert found["basis_minor"] == 0 and "Cancelled on 2026-11-26" in found["basis_explanation"]


async def test_the_generic_format_with_a_cancellation_before_its_order(gateway, anonymous):
    source = await create_generic_source(gateway)
    order_id = f"G-{uuid.uuid4().hex[:10]}"

    async def post(message: dict) -> None:
        body = json.dumps(message).encode()
        response = await anonymous.post(f"/webhooks/generic/{source.id}", content=body,
                                        headers=generic_headers(source.secret, body, event=f"{message['type']}"))
        assert response.status_code == 200, response.text

    await post({"type": "cancellation", "order_id": order_id, "cancelled_at": "2026-11-22T00:00:00Z", "reason": "fraud"})
    await post({"type": "order", "order_id": order_id, "placed_at": "2026-11-21T10:00:00Z", "currency": "JPY",
                "customer": "cust-9", "codes": ["KENJI"], "line_items": [{"id": "1", "quantity": 1, "unit_price": "12000"}],
                "totals": {"total": "12000"}})

    async def cancelled():
        found = await order_named(gateway, order_id, source="generic")
        return found if found and found["state"] == "cancelled" else None

    found = await eventually(cancelled)
    assert found["currency"] == "JPY" and found["basis_before_refunds_minor"] == 12000 and found["basis_minor"] == 0
    assert found["lines"][0]["unit_price_minor"] == 12000


async def test_an_unreadable_order_is_dead_lettered_with_the_field_and_nothing_is_written(gateway, anonymous, platform):
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    bad = with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id)
    bad["line_items"][1]["price_set"]["shop_money"]["amount"] = "20.005"  # a tenth of a cent
    await deliver_shopify(anonymous, source, "orders/create", bad)

    async def dead_lettered():
        letters = await records_on(platform, dlq_topic("gateway.webhook.v1", "attribution"), source.id.encode())
        return letters or None

    letters = await eventually(dead_lettered)
    error = dict(letters[-1].headers)["dlq.error"].decode()
    assert "line_items[1].price_set.shop_money.amount" in error and "2 decimal places" in error
    assert await order_named(gateway, str(order_id)) is None


async def test_orders_are_read_with_the_attribution_read_scope_and_unknown_ids_are_404(gateway, anonymous):
    assert (await anonymous.get(ORDERS)).status_code == 401
    assert (await gateway.get(f"{ORDERS}/{uuid.uuid4()}")).status_code == 404
    response = await gateway.get(ORDERS, params={"state": "lost"})
    assert response.status_code == 422 and "state" in response.text
