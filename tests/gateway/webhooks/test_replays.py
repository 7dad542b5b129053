"""A captured delivery cannot come back as a new one. The signature covers the body (and, for
generic partners, the timestamp) but not the headers that name the delivery or its topic, so a
resend under a fresh id, or relabelled as another topic, must publish nothing."""

import uuid

import httpx
import pytest

from tests.gateway.webhooks.conftest import (
    create_generic_source,
    create_shopify_source,
    generic_headers,
    published,
    shopify_headers,
)
from tests.gateway.webhooks.test_shopify import CUSTOMERS_REDACT, ORDER_CREATE

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_signed_generic_delivery_resent_under_new_ids_is_published_once(platform, gateway, anonymous):
    source = await create_generic_source(gateway)
    body = b'{"order": 42}'
    signed = generic_headers(source.secret, body)
    statuses = []
    for event in ("order.created", "order.refunded", "order.created"):
        headers = {**signed, "Limelight-Delivery-Id": str(uuid.uuid4()), "Limelight-Event": event}
        response = await anonymous.post(source.url, content=body, headers=headers)
        assert response.status_code == 200, response.text
        statuses.append(response.json()["status"])
    assert statuses == ["accepted", "duplicate", "duplicate"]
    assert len(await published(platform, source.id)) == 1


async def test_a_signed_shopify_body_resent_under_a_new_webhook_id_is_published_once(platform, gateway, anonymous):
    source = await create_shopify_source(gateway)
    statuses = []
    for _ in range(2):
        headers = shopify_headers(source.secret, ORDER_CREATE, topic="orders/create", shop=source.shop_domain)
        response = await anonymous.post(source.url, content=ORDER_CREATE, headers=headers)
        assert response.status_code == 200, response.text
        statuses.append(response.json()["status"])
    assert statuses == ["accepted", "duplicate"]
    assert len(await published(platform, source.id)) == 1


@pytest.mark.parametrize(
    "body, topic",
    [(ORDER_CREATE, "refunds/create"), (ORDER_CREATE, "customers/redact"), (CUSTOMERS_REDACT.encode() if isinstance(CUSTOMERS_REDACT, str) else CUSTOMERS_REDACT, "shop/redact")],
    ids=["order-as-refund", "order-as-redaction", "customer-redaction-as-shop-redaction"],
)
async def test_a_signed_shopify_body_relabelled_as_another_topic_is_refused(platform, gateway, anonymous, body, topic):
    source = await create_shopify_source(gateway)
    headers = shopify_headers(source.secret, body, topic=topic, shop=source.shop_domain)
    response = await anonymous.post(source.url, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "header.X-Shopify-Topic"
    assert await published(platform, source.id) == []


async def test_a_timestamp_in_other_digits_is_refused_not_a_500(gateway, platform):
    source = await create_generic_source(gateway)
    # '²' is a digit to str.isdigit() but not to int(): raw header bytes, as a client can send them.
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), timeout=10) as client:
        request = client.build_request("POST", source.url, content=b"{}")
        request.headers["Limelight-Signature"] = "t=\xb2,v1=" + "0" * 64
        response = await client.send(request)
    assert response.status_code == 401, response.text
