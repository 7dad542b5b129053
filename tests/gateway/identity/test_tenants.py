"""Tenant administration through the running gateway: operators only; a new tenant's first key;
disabling a tenant refuses its keys within seconds, enabling it lets them back."""

import asyncio
import uuid

import httpx
import pytest
import pytest_asyncio

from tests.conftest import bearer
from tests.gateway.identity.helpers import REFUSAL_DEADLINE, probe, seconds_until_refused

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def operator(platform, operator_tenant):
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), headers=bearer(operator_tenant.key)) as client:
        yield client


async def new_tenant(operator: httpx.AsyncClient, **body) -> dict:
    response = await operator.post("/v1/tenants", json={"name": f"brand {uuid.uuid4().hex[:6]}"} | body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_ordinary_tenants_admin_cannot_manage_tenants(gateway):
    for call in (
        gateway.get("/v1/tenants"),
        gateway.post("/v1/tenants", json={"name": "sneaky"}),
        gateway.patch(f"/v1/tenants/{uuid.uuid4()}", json={"disabled": True}),
    ):
        response = await call
        assert response.status_code == 403 and response.json()["error"] == "forbidden"


async def test_an_operator_key_without_admin_cannot_manage_tenants(operator):
    made = (await operator.post("/v1/keys", json={"name": "reader", "scopes": ["discovery:read"]})).json()
    assert (await operator.get("/v1/tenants", headers=bearer(made["key"]))).status_code == 403


async def test_a_new_tenant_comes_with_a_first_key_holding_every_scope(operator, gateway):
    made = await new_tenant(operator, plan="growth")
    key = made["first_key"]
    assert made["plan"] == "growth" and made["operator"] is False and made["disabled_at"] is None
    assert key["key"].startswith("ll_live_") and "admin" in key["scopes"] and len(key["scopes"]) == 8
    assert (await probe(gateway, key["key"])).status_code == 200
    # Its admin key manages its own keys, and only its own.
    own = await gateway.get("/v1/keys", headers=bearer(key["key"]))
    assert [item["id"] for item in own.json()["items"]] == [key["id"]]
    assert (await gateway.get("/v1/tenants", headers=bearer(key["key"]))).status_code == 403

    shown = (await operator.get(f"/v1/tenants/{made['id']}")).json()
    assert shown["name"] == made["name"] and "first_key" not in shown


async def test_the_tenant_list_pages_through_every_tenant(operator):
    made = {(await new_tenant(operator))["id"] for _ in range(3)}
    seen, cursor = [], None
    while True:
        page = (await operator.get("/v1/tenants", params={"limit": 2} | ({"cursor": cursor} if cursor else {}))).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert made <= set(seen) and len(seen) == len(set(seen))


async def test_a_disabled_tenants_keys_are_refused_within_seconds_and_enabling_lets_them_back(operator, gateway):
    made = await new_tenant(operator)
    key = made["first_key"]["key"]
    assert (await probe(gateway, key)).status_code == 200

    response = await operator.patch(f"/v1/tenants/{made['id']}", json={"disabled": True})
    assert response.status_code == 200 and response.json()["disabled_at"] is not None
    assert await seconds_until_refused(gateway, key) < REFUSAL_DEADLINE
    assert "disabled" in (await probe(gateway, key)).json()["detail"]

    assert (await operator.patch(f"/v1/tenants/{made['id']}", json={"disabled": False})).json()["disabled_at"] is None
    for _ in range(int(REFUSAL_DEADLINE * 10)):
        if (await probe(gateway, key)).status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert (await probe(gateway, key)).status_code == 200


async def test_renaming_and_replanning_a_tenant(operator):
    made = await new_tenant(operator)
    response = await operator.patch(f"/v1/tenants/{made['id']}", json={"name": "renamed", "plan": "enterprise"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["plan"]) == ("renamed", "enterprise")
    assert response.json()["updated_at"] > made["updated_at"]


async def test_the_operator_workspace_cannot_be_disabled_through_the_api(operator, operator_tenant):
    response = await operator.patch(f"/v1/tenants/{operator_tenant.tenant_id}", json={"disabled": True})
    assert response.status_code == 409
    assert (await operator.get(f"/v1/tenants/{operator_tenant.tenant_id}")).json()["disabled_at"] is None


async def test_an_unknown_tenant_is_404(operator):
    assert (await operator.get(f"/v1/tenants/{uuid.uuid4()}")).status_code == 404
    assert (await operator.patch(f"/v1/tenants/{uuid.uuid4()}", json={"plan": "x"})).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "body.name"),
        ({"name": "x" * 201}, "body.name"),
        ({"name": "ok", "plan": "Not A Plan!"}, "body.plan"),
        ({"name": "ok", "operator": True}, "body.operator"),
    ],
)
async def test_bad_tenant_requests_are_422_naming_the_field(operator, body, field):
    response = await operator.post("/v1/tenants", json=body)
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["detail"]]
