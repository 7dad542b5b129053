"""Managing webhook sources: tenant-private, secrets shown once and encrypted at rest, rotation
with a grace period."""

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from cryptography.fernet import Fernet, MultiFernet

from runtime.admin import new_tenant
from services.gateway.identity.service import create_key
from shared.db import make_engine, make_sessionmaker
from tests.conftest import bearer
from tests.gateway.webhooks.conftest import (
    create_generic_source,
    create_shopify_source,
    generic_headers,
    published,
    shopify_headers,
    shopify_secret,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

BODY = b'{"id":1,"total_price":"10.00","line_items":[]}'


async def test_generic_source_secret_is_shown_once(gateway):
    created = await gateway.post("/v1/webhook-sources", json={"kind": "generic", "name": "Impact"})

    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and len(secret) >= 40
    assert created.json()["secret_hint"] == "…" + secret[-4:]
    fetched = await gateway.get(f"/v1/webhook-sources/{created.json()['id']}")
    listed = await gateway.get("/v1/webhook-sources", params={"limit": 200})
    assert "secret" not in fetched.json()
    assert secret not in fetched.text and secret not in listed.text


async def test_shopify_source_normalises_the_shop_domain_and_never_returns_the_secret(gateway):
    secret = shopify_secret()
    created = await gateway.post(
        "/v1/webhook-sources",
        json={"kind": "shopify", "name": "Acme", "shop_domain": "  Acme-Store.MyShopify.com ", "secret": secret},
    )

    assert created.status_code == 201, created.text
    assert created.json()["shop_domain"] == "acme-store.myshopify.com"
    assert created.json()["url"] == f"/webhooks/shopify/{created.json()['id']}"
    assert secret not in created.text


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "shopify", "name": "x", "shop_domain": "acme.example.com", "secret": "s" * 32}, "shop_domain"),
        ({"kind": "shopify", "name": "x", "shop_domain": "acme.myshopify.com"}, "secret"),
        ({"kind": "shopify", "name": "x", "shop_domain": "acme.myshopify.com", "secret": "short"}, "secret"),
        ({"kind": "generic", "name": "x", "secret": "s" * 32}, "secret"),
        ({"kind": "ftp", "name": "x"}, "body"),
        ({"kind": "generic", "name": ""}, "name"),
    ],
    ids=["not-myshopify", "no-secret", "short-secret", "secret-on-generic", "unknown-kind", "empty-name"],
)
async def test_invalid_source_is_422_naming_the_field(gateway, body, field):
    response = await gateway.post("/v1/webhook-sources", json=body)

    assert response.status_code == 422, response.text
    assert any(field in error["field"] for error in response.json()["detail"]), response.json()


async def test_secret_is_encrypted_at_rest(platform, gateway, gateway_db):
    source = await create_shopify_source(gateway)

    stored = await gateway_db.fetchval("select secret_encrypted from gateway.webhook_sources where id = $1", uuid.UUID(source.id))

    assert source.secret not in stored
    keys = platform.service_env("gateway")["GATEWAY_SECRETS_KEY"].split(",")
    assert MultiFernet([Fernet(k) for k in keys]).decrypt(stored.encode()).decode() == source.secret


async def test_sources_are_listed_oldest_first_by_cursor(gateway, platform, other_tenant):
    # A tenant of its own, so the list holds exactly what this test made.
    owner = await new_tenant(platform.service_env("gateway")["DATABASE_URL"], "lister")
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), timeout=15, headers=bearer(owner.key)) as client:
        made = [(await create_generic_source(client)).id for _ in range(3)]
        first = (await client.get("/v1/webhook-sources", params={"limit": 2})).json()
        second = (await client.get("/v1/webhook-sources", params={"limit": 2, "cursor": first["next_cursor"]})).json()

    assert [s["id"] for s in first["items"] + second["items"]] == made
    assert second["next_cursor"] is None


async def test_another_tenant_cannot_see_change_rotate_or_delete_a_source(gateway, other_gateway):
    source = await create_generic_source(gateway)
    path = f"/v1/webhook-sources/{source.id}"

    answers = [
        await other_gateway.get(path),
        await other_gateway.patch(path, json={"name": "mine now", "disabled": True}),
        await other_gateway.post(f"{path}/rotate"),
        await other_gateway.delete(path),
    ]
    listed = await other_gateway.get("/v1/webhook-sources", params={"limit": 200})

    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert all(a.json()["error"] == "not_found" for a in answers)
    assert source.id not in listed.text
    mine = (await gateway.get(path)).json()
    assert (mine["name"], mine["disabled"], mine["rotated_at"]) == ("Partner platform", False, None)


async def test_managing_sources_needs_the_webhooks_manage_scope(platform, tenant, anonymous):
    engine = make_engine(platform.service_env("gateway")["DATABASE_URL"])
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            _, key = await create_key(session, tenant.tenant_id, name="reader", scopes=["discovery:read"])
    finally:
        await engine.dispose()

    assert (await anonymous.get("/v1/webhook-sources")).status_code == 401
    response = await anonymous.get("/v1/webhook-sources", headers=bearer(key))
    assert response.status_code == 403
    assert "webhooks:manage" in response.json()["detail"]


async def forget_cached_sources(gateway, source_id: str) -> None:
    """The receivers keep a source in memory for a few seconds (ADR 0038): a change written to the
    table behind the gateway's back reaches them within GATEWAY_WEBHOOK_SOURCE_CACHE_SECONDS, one
    made through its API (even an empty PATCH) at once."""
    assert (await gateway.patch(f"/v1/webhook-sources/{source_id}", json={})).status_code == 200


async def test_generic_rotation_keeps_the_old_secret_valid_during_the_grace_period_only(platform, gateway, anonymous, gateway_db):
    source = await create_generic_source(gateway)
    rotated = await gateway.post(f"/v1/webhook-sources/{source.id}/rotate")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != source.secret
    rotated_at = datetime.fromisoformat(rotated.json()["rotated_at"])
    expires = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    assert expires - rotated_at == timedelta(hours=24)

    # A body of its own per delivery: the same signed body again would be the same delivery.
    async def deliver(secret: str, n: int):
        body = b'{"id":%d}' % n
        return await anonymous.post(source.url, content=body, headers=generic_headers(secret, body))

    old_in_grace = await deliver(source.secret, 1)
    new_in_grace = await deliver(new_secret, 2)
    await gateway_db.execute(
        "update gateway.webhook_sources set previous_secret_expires_at = now() - interval '1 second' where id = $1",
        uuid.UUID(source.id),
    )
    await forget_cached_sources(gateway, source.id)
    old_after = await deliver(source.secret, 3)
    new_after = await deliver(new_secret, 4)

    assert [r.status_code for r in (old_in_grace, new_in_grace, old_after, new_after)] == [200, 200, 401, 200]
    assert len(await published(platform, source.id)) == 3


async def test_shopify_rotation_takes_the_pasted_secret_and_honours_the_grace_period(platform, gateway, anonymous, gateway_db):
    source = await create_shopify_source(gateway)
    new_secret = shopify_secret()
    path = f"/v1/webhook-sources/{source.id}/rotate"

    missing = await gateway.post(path, json={})
    same = await gateway.post(path, json={"secret": source.secret})
    rotated = await gateway.post(path, json={"secret": new_secret})

    assert missing.status_code == same.status_code == 409
    assert missing.json()["detail"][0]["field"] == same.json()["detail"][0]["field"] == "body.secret"
    assert rotated.status_code == 200 and rotated.json()["secret"] is None
    assert rotated.json()["secret_hint"] == "…" + new_secret[-4:]

    def signed(secret):
        return shopify_headers(secret, BODY, topic="orders/updated", shop=source.shop_domain)

    assert (await anonymous.post(source.url, content=BODY, headers=signed(source.secret))).status_code == 200
    assert (await anonymous.post(source.url, content=BODY, headers=signed(new_secret))).status_code == 200
    await gateway_db.execute(
        "update gateway.webhook_sources set previous_secret_expires_at = now() - interval '1 second' where id = $1",
        uuid.UUID(source.id),
    )
    await forget_cached_sources(gateway, source.id)
    assert (await anonymous.post(source.url, content=BODY, headers=signed(source.secret))).status_code == 401
    assert (await anonymous.post(source.url, content=BODY, headers=signed(new_secret))).status_code == 200


async def test_a_second_rotation_drops_the_oldest_secret(gateway, anonymous):
    source = await create_generic_source(gateway)
    second = (await gateway.post(f"/v1/webhook-sources/{source.id}/rotate")).json()["secret"]
    third = (await gateway.post(f"/v1/webhook-sources/{source.id}/rotate")).json()["secret"]

    answers = [
        (await anonymous.post(source.url, content=BODY, headers=generic_headers(s, BODY))).status_code
        for s in (source.secret, second, third)
    ]

    assert answers == [401, 200, 200]


async def test_generic_rotation_refuses_a_pasted_secret(gateway):
    source = await create_generic_source(gateway)

    response = await gateway.post(f"/v1/webhook-sources/{source.id}/rotate", json={"secret": "s" * 32})

    assert response.status_code == 409
    assert response.json()["detail"][0]["field"] == "body.secret"


async def test_patch_changes_a_shopify_shop_domain_and_refuses_one_on_a_generic_source(gateway):
    shopify, generic = await create_shopify_source(gateway), await create_generic_source(gateway)

    changed = await gateway.patch(f"/v1/webhook-sources/{shopify.id}", json={"shop_domain": "New-Shop.myshopify.com"})
    refused = await gateway.patch(f"/v1/webhook-sources/{generic.id}", json={"shop_domain": "x.myshopify.com"})

    assert changed.json()["shop_domain"] == "new-shop.myshopify.com"
    assert refused.status_code == 409
    assert refused.json()["detail"][0]["field"] == "body.shop_domain"


async def test_operations_appear_in_the_openapi_document_with_their_scope(anonymous):
    document = (await anonymous.get("/openapi.json")).json()

    for path, method in [
        ("/v1/webhook-sources", "post"), ("/v1/webhook-sources", "get"), ("/v1/webhook-sources/{source_id}", "get"),
        ("/v1/webhook-sources/{source_id}", "patch"), ("/v1/webhook-sources/{source_id}", "delete"),
        ("/v1/webhook-sources/{source_id}/rotate", "post"),
    ]:
        operation = document["paths"][path][method]
        assert operation["security"] == [{"ApiKey": ["webhooks:manage"]}, {"Jwt": ["webhooks:manage"]}], (path, method)
        assert operation["x-required-scope"] == "webhooks:manage"
