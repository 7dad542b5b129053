"""Behaviour the OpenAPI document promises: integers are integers, and a 405 names every method."""

import pytest

from tests.conftest import unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_boolean_follower_count_is_refused_on_create(gateway):
    body = {"platform": "x", "handle": unique_handle(), "follower_count": False}
    response = await gateway.post("/v1/discovery/creators", json=body)
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["detail"]] == ["body.follower_count"]


async def test_boolean_follower_count_is_refused_on_update(gateway):
    creator = (await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": unique_handle()})).json()
    response = await gateway.patch(f"/v1/discovery/creators/{creator['id']}", json={"follower_count": True})
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["detail"]] == ["body.follower_count"]


async def test_integral_json_number_is_accepted_as_a_count(gateway):
    # JSON Schema's "integer" includes 1000.0; the document says integer, so the API takes it.
    body = {"platform": "x", "handle": unique_handle(), "follower_count": 1000.0}
    response = await gateway.post("/v1/discovery/creators", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["follower_count"] == 1000


async def test_405_allow_lists_every_method_of_the_resource(gateway):
    creator = (await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": unique_handle()})).json()
    response = await gateway.post(f"/v1/discovery/creators/{creator['id']}")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "PATCH"} <= allowed
    assert response.json()["error"] == "method_not_allowed"
