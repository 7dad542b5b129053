"""Two things partners send that attribution read wrongly: refund ids numbered per order (the
second order's refund was taken for a repeat of the first's and dropped, its order keeping its
whole basis), and times at the edge of the calendar (a year 9999 broke the holding period, a year
1 a comparison; a mistyped 2999 was credited with a commission that would never be approved)."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.attribution.orders import generic, reading, shopify
from services.attribution.orders.model import PayloadError, customer_hash
from tests.attribution.test_orders_e2e import DATA, order_named, with_order_id
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_generic_source, generic_headers

KEY = customer_hash(b"test-secret-of-32-bytes-exactly!")


@pytest.mark.integration
@pytest.mark.asyncio
async def test_refunds_numbered_per_order_each_refund_their_own_order(gateway, anonymous):
    source = await create_generic_source(gateway)
    orders = [f"P-{uuid.uuid4().hex[:10]}" for _ in range(2)]

    async def post(message: dict) -> None:
        body = json.dumps(message).encode()
        response = await anonymous.post(f"/webhooks/generic/{source.id}", content=body,
                                        headers=generic_headers(source.secret, body, event=message["type"]))
        assert response.status_code == 200, response.text

    for order_id in orders:
        await post({"type": "order", "order_id": order_id, "placed_at": "2026-11-21T10:00:00Z", "currency": "USD",
                    "customer": "cust-1", "line_items": [{"id": "1", "quantity": 1, "unit_price": "50.00"}]})
    for order_id in orders:  # both the partner's refund "1", each of its own order
        await post({"type": "refund", "refund_id": "1", "order_id": order_id, "created_at": "2026-11-22T10:00:00Z",
                    "currency": "USD", "line_items": [{"id": "1", "quantity": 1, "amount": "50.00"}]})
    await post({"type": "refund", "refund_id": "1", "order_id": orders[1], "created_at": "2026-11-22T10:00:00Z",
                "currency": "USD", "line_items": [{"id": "1", "quantity": 1, "amount": "50.00"}]})  # a repeat

    async def refunded(order_id: str):
        found = await order_named(gateway, order_id, source="generic")
        return found if found and found["basis_minor"] == 0 else None

    for order_id in orders:
        found = await eventually(lambda: refunded(order_id))
        assert [r["refund_id"] for r in found["refunds"]] == ["1"] and found["basis_before_refunds_minor"] == 5000


@pytest.mark.parametrize("when", ["9999-12-01T00:00:00Z", "0001-01-01T00:00:00Z", "2999-01-01T00:00:00Z",
                                  "1999-12-31T23:59:59Z", "far"])
def test_a_time_outside_2000_to_a_week_from_now_is_a_payload_error_naming_the_field(when):
    when = (datetime.now(UTC) + timedelta(days=8)).isoformat() if when == "far" else when
    data = with_order_id(json.loads((DATA / "orders-create-usd-code-and-click.json").read_text()), 1)
    data["created_at"] = when
    with pytest.raises(PayloadError) as raised:
        shopify.parse("orders/create", json.dumps(data), KEY)
    assert raised.value.field == "created_at" and "from 2000 to a week from now" in raised.value.reason
    refund = {"type": "refund", "refund_id": "1", "order_id": "A", "created_at": when, "currency": "USD", "line_items": []}
    with pytest.raises(PayloadError) as raised:
        generic.parse(json.dumps(refund), KEY)
    assert raised.value.field == "created_at"


def test_a_partners_clock_a_little_ahead_or_a_time_without_offset_is_read():
    soon = datetime.now(UTC) + timedelta(days=6)
    assert reading.timestamp(soon.isoformat(), "t") == soon
    assert reading.timestamp("2000-01-01T00:00:00", "t") == datetime(2000, 1, 1, tzinfo=UTC)
