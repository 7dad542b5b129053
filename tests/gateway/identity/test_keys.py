"""API key lifecycle through the running gateway: create (shown once), list, get, rotate with a
grace period, revoke, expiry, last-used time, and no view of another tenant's keys."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import bearer
from tests.gateway.identity.helpers import REFUSAL_DEADLINE, probe, seconds_until_refused

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

SECRET_FIELDS = {"key", "secret_hash", "secret", "hash"}


async def create(client: httpx.AsyncClient, **body) -> dict:
    response = await client.post("/v1/keys", json={"name": "test key", "scopes": ["discovery:read"]} | body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_new_key_is_returned_once_and_works(gateway):
    made = await create(gateway, name="storefront", scopes=["discovery:read", "audits:read"])
    assert made["key"].startswith("ll_live_") and made["key"].startswith(made["prefix"])
    assert made["scopes"] == ["audits:read", "discovery:read"]
    assert (await probe(gateway, made["key"])).status_code == 200

    shown = (await gateway.get(f"/v1/keys/{made['id']}")).json()
    assert not SECRET_FIELDS & set(shown)
    assert made["key"] not in (await gateway.get(f"/v1/keys/{made['id']}")).text
    assert shown["prefix"] == made["prefix"] and shown["name"] == "storefront"


async def test_a_test_environment_key_has_the_test_prefix(gateway):
    made = await create(gateway, environment="test")
    assert made["key"].startswith("ll_test_") and made["environment"] == "test"


async def test_a_key_without_admin_cannot_manage_keys(gateway):
    made = await create(gateway, scopes=["discovery:read"])
    response = await gateway.get("/v1/keys", headers=bearer(made["key"]))
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


async def test_a_tenant_admin_may_grant_admin_to_its_own_keys(gateway):
    made = await create(gateway, scopes=["admin"])
    assert (await gateway.get("/v1/keys", headers=bearer(made["key"]))).status_code == 200


async def test_the_list_pages_through_every_key_and_never_shows_a_secret(gateway):
    made = {(await create(gateway, name=f"page {i}"))["id"] for i in range(3)}
    seen, cursor, pages = [], None, 0
    while True:
        response = await gateway.get("/v1/keys", params={"limit": 2} | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        for item in page["items"]:
            assert not SECRET_FIELDS & set(item)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert made <= set(seen)
    assert len(seen) == len(set(seen)) and pages >= 2


async def test_another_tenants_keys_are_never_listed_and_answer_404(gateway, platform, other_tenant):
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), headers=bearer(other_tenant.key)) as other:
        theirs = await create(other, name="not yours")
        listed = []
        cursor = None
        while True:
            page = (await gateway.get("/v1/keys", params={"limit": 200} | ({"cursor": cursor} if cursor else {}))).json()
            listed += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert theirs["id"] not in listed and str(other_tenant.key_id) not in listed

        for key_id in (theirs["id"], str(other_tenant.key_id)):
            assert (await gateway.get(f"/v1/keys/{key_id}")).status_code == 404
            assert (await gateway.post(f"/v1/keys/{key_id}/rotate")).status_code == 404
            assert (await gateway.delete(f"/v1/keys/{key_id}")).status_code == 404
        # Untouched by all that: still theirs, still working, not rotated.
        assert (await probe(other, theirs["key"])).status_code == 200
        shown = (await other.get(f"/v1/keys/{theirs['id']}")).json()
        assert shown["revoked_at"] is None and shown["rotated_to"] is None


async def test_an_unknown_key_id_is_404(gateway):
    response = await gateway.get(f"/v1/keys/{uuid.uuid4()}")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


async def test_a_revoked_key_is_refused_within_seconds_and_revoking_again_changes_nothing(gateway):
    made = await create(gateway)
    assert (await probe(gateway, made["key"])).status_code == 200
    assert (await gateway.delete(f"/v1/keys/{made['id']}")).status_code == 204
    assert await seconds_until_refused(gateway, made["key"]) < REFUSAL_DEADLINE
    revoked_at = (await gateway.get(f"/v1/keys/{made['id']}")).json()["revoked_at"]
    assert revoked_at is not None

    assert (await gateway.delete(f"/v1/keys/{made['id']}")).status_code == 204
    assert (await gateway.get(f"/v1/keys/{made['id']}")).json()["revoked_at"] == revoked_at
    assert (await gateway.post(f"/v1/keys/{made['id']}/rotate")).status_code == 409


async def test_a_rotated_key_works_for_its_grace_period_then_is_refused(gateway):
    old = await create(gateway, name="rotating", scopes=["discovery:read", "audits:read"])
    response = await gateway.post(f"/v1/keys/{old['id']}/rotate", json={"grace_seconds": 3})
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["key"] != old["key"] and new["id"] != old["id"]
    assert (new["name"], new["scopes"]) == (old["name"], old["scopes"])

    assert (await probe(gateway, new["key"])).status_code == 200
    assert (await probe(gateway, old["key"])).status_code == 200  # within the grace period
    shown = (await gateway.get(f"/v1/keys/{old['id']}")).json()
    assert shown["rotated_to"] == new["id"] and shown["expires_at"] is not None
    assert (await gateway.post(f"/v1/keys/{old['id']}/rotate")).status_code == 409  # one successor only

    refused_after = await seconds_until_refused(gateway, old["key"], timeout=3 + REFUSAL_DEADLINE + 2)
    assert refused_after >= 2  # not before the grace period ends (allowing the clocks' difference)
    assert (await probe(gateway, new["key"])).status_code == 200


async def test_the_default_rotation_grace_is_a_day(gateway):
    old = await create(gateway)
    response = await gateway.post(f"/v1/keys/{old['id']}/rotate")
    assert response.status_code == 201
    expires = datetime.fromisoformat((await gateway.get(f"/v1/keys/{old['id']}")).json()["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=1))) < timedelta(minutes=1)
    assert (await probe(gateway, old["key"])).status_code == 200


async def test_a_rotation_with_no_grace_ends_the_old_key_now(gateway):
    old = await create(gateway)
    assert (await gateway.post(f"/v1/keys/{old['id']}/rotate", json={"grace_seconds": 0})).status_code == 201
    assert await seconds_until_refused(gateway, old["key"]) < REFUSAL_DEADLINE


async def test_a_key_is_refused_once_it_expires(gateway):
    expires = datetime.now(UTC) + timedelta(seconds=2)
    made = await create(gateway, expires_at=expires.isoformat())
    assert (await probe(gateway, made["key"])).status_code == 200
    await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.2)
    response = await probe(gateway, made["key"])
    assert response.status_code == 401 and "expired" in response.json()["detail"]


async def test_last_used_at_is_filled_when_a_key_is_used(gateway):
    made = await create(gateway)
    assert made["last_used_at"] is None
    assert (await probe(gateway, made["key"])).status_code == 200

    async def used() -> str | None:
        return (await gateway.get(f"/v1/keys/{made['id']}")).json()["last_used_at"]

    for _ in range(50):
        if await used():
            break
        await asyncio.sleep(0.1)
    assert await used() is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["discovery:read", "everything"]}, "body.scopes.1"),
        ({"name": "x", "scopes": []}, "body.scopes"),
        ({"name": "   ", "scopes": ["admin"]}, "body.name"),
        ({"name": "a\u0000b", "scopes": ["admin"]}, "body.name"),
        ({"name": "x", "scopes": ["admin"], "environment": "prod"}, "body.environment"),
        ({"name": "x", "scopes": ["admin"], "expires_at": "2099-01-01T00:00:00"}, "body.expires_at"),
        ({"name": "x", "scopes": ["admin"], "tenant_id": str(uuid.uuid4())}, "body.tenant_id"),
    ],
)
async def test_bad_key_requests_are_422_naming_the_field(gateway, body, field):
    async def count() -> int:
        return len((await gateway.get("/v1/keys", params={"limit": 200})).json()["items"])

    before = await count()
    response = await gateway.post("/v1/keys", json=body)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["detail"]]
    assert await count() == before


async def test_a_bad_rotation_grace_is_422(gateway):
    made = await create(gateway)
    response = await gateway.post(f"/v1/keys/{made['id']}/rotate", json={"grace_seconds": -1})
    assert response.status_code == 422
    assert (await gateway.get(f"/v1/keys/{made['id']}")).json()["rotated_to"] is None


async def test_two_concurrent_rotations_make_one_successor(gateway):
    old = await create(gateway)
    responses = await asyncio.gather(*(gateway.post(f"/v1/keys/{old['id']}/rotate") for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [201, 409]
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert (await gateway.get(f"/v1/keys/{old['id']}")).json()["rotated_to"] == winner["id"]
    assert (await probe(gateway, winner["key"])).status_code == 200


async def test_an_expiry_already_past_is_409_naming_the_field(gateway):
    response = await gateway.post("/v1/keys", json={"name": "x", "scopes": ["admin"], "expires_at": "2020-01-01T00:00:00Z"})
    assert response.status_code == 409
    assert response.json()["detail"] == [{"field": "body.expires_at", "reason": "must be in the future"}]
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    made = await create(gateway)
    response = await gateway.post(f"/v1/keys/{made['id']}/rotate", json={"expires_at": past})
    assert response.status_code == 409
    assert (await gateway.get(f"/v1/keys/{made['id']}")).json()["rotated_to"] is None


async def test_two_authorization_headers_are_refused_whichever_is_valid(gateway, anonymous):
    """A singleton field: a proxy and the gateway could each read a different one of the two."""
    valid = gateway.headers["Authorization"]
    for pair in ((valid, "Bearer ll_live_unknown"), ("Bearer ll_live_unknown", valid), (valid, valid)):
        response = await anonymous.get("/v1/keys", headers=[("Authorization", value) for value in pair])
        assert response.status_code == 401, response.text
        assert "one Authorization header" in response.json()["detail"]
        assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]
    assert (await anonymous.get("/v1/keys", headers={"Authorization": valid})).status_code == 200
