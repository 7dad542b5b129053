"""The receivers' cache of sources (services/gateway/webhooks/cache.py, ADR 0038): a change made
through this gateway's API reaches the very next delivery; one made elsewhere (another replica)
is bounded by the cache's lifetime, never longer."""

import uuid

import pytest

from services.gateway.webhooks.cache import SourceCache
from services.gateway.webhooks.vault import Vault
from shared.db import Reads, make_engine, utcnow
from tests.gateway.webhooks.conftest import (
    create_generic_source,
    create_shopify_source,
    generic_headers,
    shopify_headers,
    shopify_secret,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _body() -> bytes:
    return b'{"event":"order.paid","order_id":"%s"}' % uuid.uuid4().hex.encode()


async def _deliver(anonymous, source, secret: str):
    body = _body()
    return await anonymous.post(source.url, content=body, headers=generic_headers(secret, body))


async def test_a_deleted_source_is_refused_by_the_next_delivery(gateway, anonymous):
    source = await create_generic_source(gateway)
    before = await _deliver(anonymous, source, source.secret)

    assert (await gateway.delete(f"/v1/webhook-sources/{source.id}")).status_code == 204
    after = await _deliver(anonymous, source, source.secret)

    assert (before.status_code, after.status_code) == (200, 404)


async def test_a_disabled_source_is_refused_by_the_next_delivery_and_accepted_once_enabled(gateway, anonymous):
    source = await create_generic_source(gateway)
    path = f"/v1/webhook-sources/{source.id}"
    before = await _deliver(anonymous, source, source.secret)

    await gateway.patch(path, json={"disabled": True})
    disabled = await _deliver(anonymous, source, source.secret)
    await gateway.patch(path, json={"disabled": False})
    enabled = await _deliver(anonymous, source, source.secret)

    assert [r.status_code for r in (before, disabled, enabled)] == [200, 404, 200]


async def test_a_secret_rotated_out_is_refused_by_the_next_delivery(gateway, anonymous):
    source = await create_shopify_source(gateway)
    second, third = shopify_secret(), shopify_secret()
    path = f"/v1/webhook-sources/{source.id}/rotate"

    def deliver(secret: str):
        body = b'{"id":%d,"line_items":[]}' % uuid.uuid4().int
        headers = shopify_headers(secret, body, topic="orders/create", shop=source.shop_domain)
        return anonymous.post(source.url, content=body, headers=headers)

    first_secret = (await deliver(source.secret)).status_code
    assert (await gateway.post(path, json={"secret": second})).status_code == 200
    in_grace = (await deliver(source.secret)).status_code
    # A second rotation drops the oldest secret at once (only the two newest are accepted).
    assert (await gateway.post(path, json={"secret": third})).status_code == 200
    rotated_out = await deliver(source.secret)
    newest = (await deliver(third)).status_code

    assert (first_secret, in_grace, rotated_out.status_code, newest) == (200, 200, 401, 200)


async def test_another_process_sees_a_change_once_its_cache_entry_has_expired(platform, gateway):
    env = platform.service_env("gateway")
    engine = make_engine(env["DATABASE_URL"])
    now = [0.0]
    # Another replica's cache: its clock is ours to move, so no test waits for real time to pass.
    cache = SourceCache(5.0, clock=lambda: now[0])
    reads, vault = Reads(engine), Vault(env["GATEWAY_SECRETS_KEY"])
    source = await create_generic_source(gateway)
    source_id = uuid.UUID(source.id)
    try:
        cached = await cache.get(reads, vault, source_id, "generic")
        assert (await gateway.delete(f"/v1/webhook-sources/{source.id}")).status_code == 204
        now[0] = 4.9
        within_bound = await cache.get(reads, vault, source_id, "generic")
        now[0] = 5.0
        after_bound = await cache.get(reads, vault, source_id, "generic")
    finally:
        await engine.dispose()

    assert cached is not None and cached.accepted_secrets(utcnow()) == [source.secret]
    assert within_bound is cached
    assert after_bound is None

