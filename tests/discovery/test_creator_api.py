"""Creator API behaviour through the gateway: clear 4xx, nothing half-written, cursor pages."""

import pytest

from tests.conftest import unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_handle_is_normalised(gateway):
    handle = unique_handle()
    response = await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": f"  @{handle.upper()} "})
    assert response.status_code == 201
    assert response.json()["handle"] == handle


async def test_duplicate_handle_is_a_409_and_writes_nothing(gateway, discovery_db):
    handle = unique_handle()
    first = await gateway.post("/v1/discovery/creators", json={"platform": "instagram", "handle": handle})
    assert first.status_code == 201
    second = await gateway.post("/v1/discovery/creators", json={"platform": "instagram", "handle": handle.upper()})
    assert second.status_code == 409
    assert second.json()["detail"][0]["field"] == "body.handle"
    events = await discovery_db.fetchval(
        "select count(*) from discovery.outbox where convert_from(value, 'UTF8')::jsonb->'payload'->>'handle' = $1", handle
    )
    assert events == 1


async def test_invalid_body_names_each_field_and_reason(gateway):
    response = await gateway.post(
        "/v1/discovery/creators", json={"platform": "myspace", "handle": "", "follower_count": -1}
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["detail"]}
    assert fields == {"body.platform", "body.handle", "body.follower_count"}
    assert all(d["reason"] for d in response.json()["detail"])


async def test_unknown_creator_is_a_404(gateway):
    response = await gateway.get("/v1/discovery/creators/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_malformed_creator_id_is_a_422(gateway):
    response = await gateway.get("/v1/discovery/creators/not-a-uuid")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "path.creator_id"


async def test_forged_cursor_is_a_422_naming_the_cursor(gateway):
    response = await gateway.get("/v1/discovery/creators", params={"cursor": "bm9wZQ"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"field": "query.cursor", "reason": "not a cursor returned by this API"}]


async def test_cursor_pages_return_every_creator_once(gateway):
    created = set()
    for _ in range(5):
        response = await gateway.post("/v1/discovery/creators", json={"platform": "pinterest", "handle": unique_handle()})
        created.add(response.json()["id"])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"platform": "pinterest", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await gateway.get("/v1/discovery/creators", params=params)).json()
        seen += [c["id"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert created <= set(seen)
    assert pages == (len(seen) + 1) // 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "x", "handle": "nul\u0000byte"}, "body.handle"),
        ({"platform": "x", "handle": unique_handle(), "display_name": "a\u0000b"}, "body.display_name"),
        ({"platform": "x", "handle": unique_handle(), "follower_count": 2**63}, "body.follower_count"),
        # finer than the currency's minor unit (found by an outside probe)
        ({"platform": "x", "handle": unique_handle(), "price_estimates": [
            {"platform": "x", "deliverable": "post", "amount": "1.001", "currency": "USD"}]}, "body.price_estimates.0.amount"),
        ({"platform": "x", "handle": unique_handle(), "price_estimates": [
            {"platform": "x", "deliverable": "post", "amount": "1.5", "currency": "JPY"}]}, "body.price_estimates.0.amount"),
    ],
)
async def test_values_the_database_cannot_hold_are_a_422(gateway, body, field):
    response = await gateway.post("/v1/discovery/creators", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == field


async def test_clearing_the_handle_is_a_422_and_changes_nothing(gateway):
    handle = unique_handle()
    creator = (await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": handle})).json()
    response = await gateway.patch(f"/v1/discovery/creators/{creator['id']}", json={"handle": None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body.handle"
    assert (await gateway.get(f"/v1/discovery/creators/{creator['id']}")).json()["handle"] == handle


async def test_renaming_to_a_taken_handle_is_a_409(gateway):
    taken = unique_handle()
    await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": taken})
    other = (await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": unique_handle()})).json()
    response = await gateway.patch(f"/v1/discovery/creators/{other['id']}", json={"handle": taken})
    assert response.status_code == 409
    assert response.json()["detail"][0]["field"] == "body.handle"
