"""/webhooks/ limits (ADR 0038): a partner may burst from one address far past the public
routes' per-address limit; an address whose deliveries fail is refused before its source is
looked up; a source's own limit is spent only by new deliveries signed with its secret."""

import pytest

from services.gateway.traffic.limits import PlanLimit
from tests.conftest import bearer
from tests.gateway.traffic.helpers import fresh_address, replica, settings_for, tenant_on_plan
from tests.gateway.webhooks.conftest import generic_headers

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# The public routes' per-address limit, and so the failure bucket's: 3 at once, then 1 per 5 s.
SMALL = PlanLimit(rate=0.2, burst=3)
BODY = b'{"event":"order.created","order_id":"1001","total":"49.90","currency":"EUR"}'


async def _generic_source(client, key: str) -> tuple[str, str]:
    made = await client.post("/v1/webhook-sources", headers=bearer(key), json={"kind": "generic", "name": "Partner"})
    assert made.status_code == 201, made.text
    return made.json()["url"], made.json()["secret"]


async def test_a_partner_bursting_from_one_address_is_not_refused(platform):
    tenant = await tenant_on_plan(platform, "standard")
    settings = settings_for(platform, platform.s.url("discovery"), gateway_address_rate_limit=SMALL)
    async with replica(settings, address=fresh_address()) as client:
        url, secret = await _generic_source(client, tenant.key)
        # Ten times the public routes' burst, as fast as one client sends them; each its own order
        # (the same signed body twice would be one delivery).
        bodies = [b'{"event":"order.created","order_id":"%d"}' % n for n in range(30)]
        answers = [(await client.post(url, content=body, headers=generic_headers(secret, body))) for body in bodies]
        click = await client.get("/r/some-link")
        clicks = [(await client.get("/r/some-link")).status_code for _ in range(3)]

    assert [a.status_code for a in answers] == [200] * 30
    assert {a.json()["status"] for a in answers} == {"accepted"}
    assert answers[-1].headers["RateLimit-Limit"] == "5000"
    # The public routes keep their own limit, untouched by the deliveries.
    assert click.headers["RateLimit-Remaining"] == "2"
    assert clicks[-1] == 429


async def test_an_address_whose_deliveries_fail_is_refused_before_its_source_is_read(platform):
    tenant = await tenant_on_plan(platform, "standard")
    settings = settings_for(platform, platform.s.url("discovery"), gateway_address_rate_limit=SMALL)
    forging = fresh_address()
    async with replica(settings, address=forging) as client:
        url, secret = await _generic_source(client, tenant.key)
        forged = [
            (await client.post(url, content=BODY, headers=generic_headers("whsec_guessed", BODY))).status_code
            for _ in range(4)
        ]
        signed = await client.post(url, content=BODY, headers=generic_headers(secret, BODY))
        # Another tenant's source behind the same address (a partner's shared egress): untouched.
        other_url, other_secret = await _generic_source(client, (await tenant_on_plan(platform, "standard")).key)
        neighbour = await client.post(other_url, content=BODY, headers=generic_headers(other_secret, BODY))
        client._transport.client = (fresh_address(), 40_000)
        elsewhere = await client.post(url, content=BODY, headers=generic_headers(secret, BODY))

    assert forged == [401, 401, 401, 429]
    assert forged_answer_is_rate_limited(signed)
    assert 1 <= int(signed.headers["Retry-After"]) <= 5
    # Bounded per address and source: this address's deliveries to this source wait, the same
    # address's deliveries to another tenant's source and another address's to this one do not.
    assert neighbour.status_code == 200, neighbour.text
    assert elsewhere.status_code == 200


def forged_answer_is_rate_limited(response) -> bool:
    return response.status_code == 429 and response.json() == {
        "error": "rate_limited", "detail": "too many failed deliveries from this address to this webhook source"}


async def test_an_address_probing_unknown_sources_is_refused_per_source_id(platform):
    settings = settings_for(platform, platform.s.url("discovery"), gateway_address_rate_limit=SMALL)
    async with replica(settings, address=fresh_address()) as client:
        path = "/webhooks/generic/0b7e5d1c-55d4-4d35-9a43-7d2a4c1c0d11"
        probes = [(await client.post(path, content=BODY)).status_code for _ in range(4)]

    assert probes == [404, 404, 404, 429]


async def test_a_source_limit_is_spent_only_by_deliveries_signed_with_its_secret(platform):
    tenant = await tenant_on_plan(platform, "standard")
    settings = settings_for(platform, platform.s.url("discovery"), gateway_webhook_source_rate_limit=PlanLimit(rate=0.2, burst=2))
    async with replica(settings, address=fresh_address()) as client:
        url, secret = await _generic_source(client, tenant.key)
        forged = []
        for _ in range(3):
            client._transport.client = (fresh_address(), 40_000)
            forged.append((await client.post(url, content=BODY, headers=generic_headers("whsec_guessed", BODY))).status_code)
        bodies = [b'{"event":"order.created","order_id":"%d"}' % n for n in range(3)]
        signed = [(await client.post(url, content=body, headers=generic_headers(secret, body))) for body in bodies]

    assert forged == [401, 401, 401]
    assert [a.status_code for a in signed] == [200, 200, 429]
    assert signed[-1].json()["detail"] == "this webhook source's rate limit is exceeded"


async def test_replaying_an_accepted_delivery_does_not_spend_its_sources_limit(platform):
    tenant = await tenant_on_plan(platform, "standard")
    settings = settings_for(platform, platform.s.url("discovery"), gateway_webhook_source_rate_limit=PlanLimit(rate=0.2, burst=2))
    async with replica(settings, address=fresh_address()) as client:
        url, secret = await _generic_source(client, tenant.key)
        captured = generic_headers(secret, BODY)
        first = await client.post(url, content=BODY, headers=captured)
        # The same signed delivery, captured and sent again and again: duplicates, answered 200
        # and published never again; the partner's allowance is untouched.
        replays = [(await client.post(url, content=BODY, headers=captured)) for _ in range(4)]
        fresh = b'{"event":"order.created","order_id":"2002"}'
        after = await client.post(url, content=fresh, headers=generic_headers(secret, fresh))

    assert first.status_code == 200 and first.json()["status"] == "accepted", first.text
    assert [(r.status_code, r.json()["status"]) for r in replays] == [(200, "duplicate")] * 4
    assert after.status_code == 200 and after.json()["status"] == "accepted", after.text
