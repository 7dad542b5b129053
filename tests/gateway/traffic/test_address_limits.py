"""Per-address limits: public routes cost the client address a token each, and failed
authentications throttle the address before its next credential is even looked up."""

import pytest

from services.gateway.traffic.limits import PlanLimit
from tests.conftest import bearer
from tests.gateway.fakes import FakeUpstream
from tests.gateway.traffic.helpers import fresh_address, replica, settings_for, tenant_on_plan

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

SMALL = PlanLimit(rate=0.2, burst=3)


async def test_a_public_route_refuses_an_address_past_its_limit_and_not_another(platform):
    flooding = fresh_address()
    async with FakeUpstream() as upstream:
        settings = settings_for(platform, upstream.url, gateway_address_rate_limit=SMALL)
        async with replica(settings, address=flooding) as client:
            answers = [await client.get("/r/some-link") for _ in range(3)]
            refused = await client.get("/r/some-link")
            webhook = await client.post("/webhooks/generic/some-source", content=b"{}")
            client._transport.client = (fresh_address(), 40_000)
            elsewhere = await client.get("/r/some-link")

    assert all(a.status_code != 429 for a in answers)
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert refused.status_code == 429
    assert refused.json() == {"error": "rate_limited", "detail": "too many requests from this address"}
    assert refused.headers["RateLimit-Limit"] == "3"
    assert 1 <= int(refused.headers["Retry-After"]) <= 5
    assert webhook.status_code != 429  # /webhooks/ has limits of its own (test_webhook_limits.py)
    assert elsewhere.status_code != 429


async def test_failed_authentications_throttle_the_address_before_its_keys_are_checked(platform):
    tenant = await tenant_on_plan(platform, "standard")
    guessing = fresh_address()
    async with FakeUpstream() as upstream:
        settings = settings_for(platform, upstream.url, gateway_address_rate_limit=SMALL)
        async with replica(settings, address=guessing) as client:
            guesses = [
                (await client.get("/v1/discovery/creators", headers=bearer(f"ll_live_{n:043d}"))).status_code
                for n in range(4)
            ]
            with_a_good_key = await client.get("/v1/discovery/creators", headers=bearer(tenant.key))
            health = await client.get("/healthz")
            public = await client.get("/r/some-link")
            client._transport.client = (fresh_address(), 40_000)
            elsewhere = await client.get("/v1/discovery/creators", headers=bearer(tenant.key))

    assert guesses == [401, 401, 401, 429]
    assert with_a_good_key.status_code == 429
    assert with_a_good_key.json()["detail"] == "too many failed authentications from this address"
    assert health.status_code == 200
    assert public.status_code != 429  # the public routes' bucket is another
    assert elsewhere.status_code == 200


async def test_public_traffic_from_an_address_does_not_block_its_api_calls(platform):
    tenant = await tenant_on_plan(platform, "standard")
    async with FakeUpstream() as upstream:
        settings = settings_for(platform, upstream.url, gateway_address_rate_limit=SMALL)
        async with replica(settings, key=tenant.key) as client:
            clicks = [(await client.get("/r/some-link")).status_code for _ in range(4)]
            api = await client.get("/v1/discovery/creators")
    assert clicks[-1] == 429
    assert api.status_code == 200
