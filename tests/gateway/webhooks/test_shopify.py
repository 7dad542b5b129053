"""Shopify deliveries through the running gateway, read back from the real gateway.webhook.v1."""

import json
import uuid

import pytest

from tests.conftest import metric
from tests.gateway.webhooks.conftest import create_shopify_source, published, shopify_headers, shopify_secret

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# As Shopify sends them: pretty-printed, non-ASCII text, numbers as strings; the body must
# reach Kafka byte for byte.
ORDER_CREATE = json.dumps(
    {
        "id": 5_829_131_436_213,
        "admin_graphql_api_id": "gid://shopify/Order/5829131436213",
        "name": "#1042",
        "email": "zoë@example.com",
        "currency": "EUR",
        "total_price": "89.90",
        "subtotal_price": "79.90",
        "total_tax": "10.00",
        "discount_codes": [{"code": "LUNA15", "amount": "12.00", "type": "percentage"}],
        "landing_site": "/?utm_source=limelight&ll=lnk_8f2k",
        "line_items": [{"id": 1, "title": "Crème hydratante", "quantity": 2, "price": "39.95", "sku": "CH-50"}],
        "created_at": "2026-11-26T15:03:12+01:00",
    },
    indent=2,
    ensure_ascii=False,
).encode()
REFUND_CREATE = json.dumps(
    {
        "id": 890_088_186_047,
        "order_id": 5_829_131_436_213,
        "created_at": "2026-11-27T10:00:00+01:00",
        "note": "Client a changé d'avis",
        "refund_line_items": [{"line_item_id": 1, "quantity": 1, "subtotal": "39.95", "total_tax": "5.00"}],
        "transactions": [{"kind": "refund", "amount": "44.95", "currency": "EUR", "status": "success"}],
    }
).encode()
CUSTOMERS_REDACT = json.dumps(
    {
        "shop_id": 954_889,
        "shop_domain": "{shop}",
        "customer": {"id": 191_167, "email": "private-{marker}@example.com", "phone": "555-625-1199"},
        "orders_to_redact": [299_938, 280_263, 220_458],
    }
)


@pytest.mark.parametrize("topic, body", [
    ("orders/create", ORDER_CREATE), ("refunds/create", REFUND_CREATE),
    # Read by attribution (the whole order, its state now): they were acknowledged and dropped.
    ("orders/fulfilled", ORDER_CREATE), ("orders/partially_fulfilled", ORDER_CREATE),
])
async def test_signed_shopify_delivery_is_published_once_with_its_body_untouched(platform, gateway, anonymous, tenant, topic, body):
    source = await create_shopify_source(gateway)
    headers = shopify_headers(source.secret, body, topic=topic, shop=source.shop_domain)

    response = await anonymous.post(source.url, content=body, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    [event] = await published(platform, source.id)
    assert event["event_type"] == "WebhookReceived"
    assert event["tenant_id"] == str(tenant.tenant_id)
    assert event["aggregate_id"] == source.id
    assert event["event_id"] == response.json()["event_id"]
    assert event["schema_version"] == 2
    assert event["_headers"]["event_type"] == b"WebhookReceived"
    payload = event["payload"]
    assert payload["body"].encode() == body
    assert payload["source"] == "shopify" and payload["source_id"] == source.id
    assert payload["topic"] == topic
    assert payload["partner_id"] == source.shop_domain
    assert payload["delivery_id"] == headers["X-Shopify-Webhook-Id"]
    assert payload["headers"]["x-shopify-triggered-at"] == headers["X-Shopify-Triggered-At"]
    assert payload["headers"]["x-shopify-api-version"] == "2025-10"
    assert "x-shopify-hmac-sha256" not in payload["headers"]


async def test_privacy_request_is_published_but_never_logged(platform, gateway, anonymous):
    source = await create_shopify_source(gateway)
    marker = uuid.uuid4().hex
    body = CUSTOMERS_REDACT.replace("{shop}", source.shop_domain).replace("{marker}", marker).encode()

    response = await anonymous.post(
        source.url, content=body, headers=shopify_headers(source.secret, body, topic="customers/redact", shop=source.shop_domain)
    )

    assert response.status_code == 200, response.text
    [event] = await published(platform, source.id)
    assert event["payload"]["body"].encode() == body
    logs = "".join(p.read_text(errors="replace") for p in platform.s.logs_dir.glob("gateway*.log*"))
    assert response.json()["delivery_id"] in logs  # the delivery was logged...
    assert marker not in logs  # ...without its payload


async def test_shopify_replay_of_an_accepted_webhook_id_is_answered_200_and_not_published_again(platform, gateway, anonymous):
    source = await create_shopify_source(gateway)
    headers = shopify_headers(source.secret, ORDER_CREATE, topic="orders/paid", shop=source.shop_domain)
    duplicates = await metric(platform, "gateway", "gateway_webhook_deliveries_total", kind="shopify", outcome="duplicate")

    first = await anonymous.post(source.url, content=ORDER_CREATE, headers=headers)
    again = await anonymous.post(source.url, content=ORDER_CREATE, headers=headers)

    assert (first.status_code, first.json()["status"]) == (200, "accepted")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert again.json()["event_id"] == first.json()["event_id"]
    assert len(await published(platform, source.id)) == 1
    assert await metric(platform, "gateway", "gateway_webhook_deliveries_total", kind="shopify", outcome="duplicate") == duplicates + 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, s: h.pop("X-Shopify-Hmac-Sha256"), id="unsigned"),
        pytest.param(lambda h, s: h.update({"X-Shopify-Hmac-Sha256": "bm90IGEgc2lnbmF0dXJl"}), id="forged"),
        pytest.param(lambda h, s: h.update({"X-Shopify-Hmac-Sha256": "%%%not-base64"}), id="malformed"),
        pytest.param(
            lambda h, s: h.update(shopify_headers(shopify_secret(), ORDER_CREATE, topic="orders/create", shop=s.shop_domain)),
            id="wrong-secret",
        ),
        pytest.param(lambda h, s: h.update({"X-Shopify-Shop-Domain": "someone-else.myshopify.com"}), id="wrong-shop"),
        pytest.param(lambda h, s: h.pop("X-Shopify-Shop-Domain"), id="no-shop"),
    ],
)
async def test_unverified_shopify_delivery_is_refused_with_401_and_nothing_published(platform, gateway, anonymous, tamper):
    source = await create_shopify_source(gateway)
    headers = shopify_headers(source.secret, ORDER_CREATE, topic="orders/create", shop=source.shop_domain)
    tamper(headers, source)

    response = await anonymous.post(source.url, content=ORDER_CREATE, headers=headers)

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("HMAC-SHA256")
    assert await published(platform, source.id) == []


async def test_body_changed_after_signing_is_refused(platform, gateway, anonymous):
    source = await create_shopify_source(gateway)
    headers = shopify_headers(source.secret, ORDER_CREATE, topic="orders/create", shop=source.shop_domain)

    response = await anonymous.post(source.url, content=ORDER_CREATE.replace(b"89.90", b"8.99"), headers=headers)

    assert response.status_code == 401
    assert await published(platform, source.id) == []


async def test_shop_domain_header_is_compared_case_insensitively(platform, gateway, anonymous):
    source = await create_shopify_source(gateway)
    headers = shopify_headers(source.secret, ORDER_CREATE, topic="orders/cancelled", shop=source.shop_domain.upper())

    response = await anonymous.post(source.url, content=ORDER_CREATE, headers=headers)

    assert response.status_code == 200, response.text


async def test_verified_topic_limelight_does_not_use_is_acknowledged_and_not_published(platform, gateway, anonymous):
    source = await create_shopify_source(gateway)
    headers = shopify_headers(source.secret, b"{}", topic="products/update", shop=source.shop_domain)

    response = await anonymous.post(source.url, content=b"{}", headers=headers)

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert await published(platform, source.id) == []


@pytest.mark.parametrize("missing", ["X-Shopify-Topic", "X-Shopify-Webhook-Id"])
async def test_signed_delivery_without_a_required_header_is_422_naming_it(platform, gateway, anonymous, missing):
    source = await create_shopify_source(gateway)
    headers = shopify_headers(source.secret, ORDER_CREATE, topic="orders/create", shop=source.shop_domain)
    del headers[missing]

    response = await anonymous.post(source.url, content=ORDER_CREATE, headers=headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == f"header.{missing}"
    assert await published(platform, source.id) == []


async def test_delivery_to_a_generic_source_on_the_shopify_route_is_404(gateway, anonymous):
    response = await gateway.post("/v1/webhook-sources", json={"kind": "generic", "name": "p"})
    url = f"/webhooks/shopify/{response.json()['id']}"

    answer = await anonymous.post(url, content=b"{}", headers=shopify_headers("x" * 16, b"{}", topic="orders/create", shop="a.myshopify.com"))

    assert answer.status_code == 404
