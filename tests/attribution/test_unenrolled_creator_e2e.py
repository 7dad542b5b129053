"""A creator removed from a campaign is credited nothing more in it, whatever touch an order
brings: a code or a click made while they were enrolled (an order placed before the code was
revoked, delivered after the unenrolment) loses, and says why."""

import asyncio
from datetime import UTC, datetime

import pytest

from tests.attribution.test_crediting_e2e import A, brand_setup, decided, entries, fixture, placed_now
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, with_order_id
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_an_order_placed_while_the_code_was_live_is_not_credited_once_its_creator_is_unenrolled(gateway, anonymous):
    campaign_id, creator_id, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    await asyncio.sleep(1.1)  # the order is placed after the rule took effect, and before the revocation
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    order["created_at"] = order["updated_at"] = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.1)
    codes = (await gateway.get(f"{A}/codes", params={"campaign_id": campaign_id})).json()["items"]
    assert (await gateway.post(f"{A}/codes/{codes[0]['id']}/revoke")).status_code == 200
    assert (await gateway.delete(f"{A}/campaigns/{campaign_id}/creators/{creator_id}")).status_code == 204

    await deliver_shopify(anonymous, source, "orders/create", order)
    credit = (await decided(gateway, order_id))["credit"]
    assert credit["outcome"] == "unattributed" and credit["creator_id"] is None, credit
    assert "no longer enrolled in the campaign" in credit["explanation"], credit["explanation"]
    assert await entries(gateway, str(order_id)) == []
