"""A data-subject request travels gateway → gateway.privacy.v1 → discovery, audit and attribution,
each keeping a receipt that the gateway's GET shows together (ADR 0054), on the suite's real
Kafka and PostgreSQL."""

import asyncio
import uuid

import httpx
import pytest
import pytest_asyncio

from runtime import services
from tests.conftest import SERVICE_ENV, bearer, eventually, unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

REQUESTS = "/v1/privacy/requests"


async def finished(client: httpx.AsyncClient, request_id: str) -> dict:
    async def done():
        answer = await client.get(f"{REQUESTS}/{request_id}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return body if body["status"] == "done" else None

    return await eventually(done, timeout=60)


@pytest_asyncio.fixture
async def operator(platform, operator_tenant):
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), timeout=15, headers=bearer(operator_tenant.key)) as client:
        yield client


async def test_a_creators_erasure_reaches_every_service_with_a_receipt(operator, gateway):
    made = await operator.post("/v1/discovery/creators", json={
        "platform": "instagram", "handle": unique_handle("erase"), "bio": "vegan baking", "contact": {"email": "me@maya.example"},
        "posts": [{"external_id": f"p{uuid.uuid4().hex[:8]}", "posted_at": "2026-11-01T10:00:00Z", "type": "photo",
                   "caption": "sourdough day", "likes": 120, "comments": 4}]})
    assert made.status_code == 201, made.text
    creator_id = made.json()["id"]
    # A brand has the creator on a campaign and registered their own e-mail (self-referral rule).
    campaign = (await gateway.post("/v1/attribution/campaigns", json={
        "name": f"privacy-{uuid.uuid4().hex[:6]}", "brand": "Acme", "starts_on": "2026-11-01", "ends_on": "2027-12-31",
        "budget": 100_000, "currency": "USD"})).json()["id"]
    enrolled = await gateway.post(f"/v1/attribution/campaigns/{campaign}/creators",
                                  json={"creator_id": creator_id, "deal_type": "affiliate"})
    assert enrolled.status_code == 201, enrolled.text
    own = await gateway.post(f"/v1/attribution/creators/{creator_id}/customer-keys", json={"email": "me@maya.example"})
    assert own.status_code == 201, own.text

    # Audit has heard of the creator before the request: its copy goes too.
    await eventually(lambda: _audit_knows(operator, creator_id))
    asked = await operator.post(REQUESTS, json={"kind": "erasure", "subject": {"type": "creator", "creator_id": creator_id}})
    assert asked.status_code == 202, asked.text
    body = await finished(operator, asked.json()["id"])
    by_service = {s["service"]: s["receipt"] for s in body["services"]}
    assert set(by_service) == {"discovery", "audit", "attribution"}
    assert all(r["kind"] == "erasure" and r["subject_type"] == "creator" for r in by_service.values())
    assert (await operator.get(f"/v1/discovery/creators/{creator_id}")).status_code == 404
    attribution = {a["what"]: a for a in by_service["attribution"]["actions"]}
    assert attribution["registrations of the creator's own customer identifiers"]["count"] == 1
    assert attribution["enrolments"]["done"] == "kept"

    # Another workspace's admin sees nothing of it; a brand's admin cannot ask for a creator.
    assert (await gateway.get(f"{REQUESTS}/{asked.json()['id']}")).status_code == 404
    refused = await gateway.post(REQUESTS, json={"kind": "export", "subject": {"type": "creator", "creator_id": creator_id}})
    assert refused.status_code == 403


async def _audit_knows(client: httpx.AsyncClient, creator_id: str) -> bool:
    answer = await client.get("/v1/audit/audits", params={"creator_id": creator_id})
    return answer.status_code == 200 and bool(answer.json()["items"])


async def test_a_customers_request_is_done_everywhere_and_only_attribution_holds_anything(gateway):
    asked = await gateway.post(REQUESTS, json={"kind": "export", "subject": {"type": "customer", "email": "zed@example.com"}})
    assert asked.status_code == 202, asked.text
    body = await finished(gateway, asked.json()["id"])
    by_service = {s["service"]: s["receipt"] for s in body["services"]}
    for service in ("discovery", "audit"):
        assert [a["done"] for a in by_service[service]["actions"]] == ["none held"]
    assert by_service["attribution"]["export"]["orders"] == []
    listed = (await gateway.get(REQUESTS)).json()["items"]
    assert listed[0]["id"] == asked.json()["id"] and listed[0]["subject_hint"] == "z***@example.com"
    assert "zed@example.com" not in (await gateway.get(REQUESTS)).text


async def test_a_request_waits_out_a_service_that_is_down_and_finishes_when_it_is_back(platform, gateway):
    """Audit stopped: the request is still accepted (it waits on Kafka), its GET answers 200 with
    audit `unavailable` (never a 500), and once audit is back it acts and the request is done."""
    services.stop(platform.s, "audit")
    try:
        asked = await gateway.post(REQUESTS, json={"kind": "erasure", "subject": {"type": "customer", "email": "yan@example.com"}})
        assert asked.status_code == 202, asked.text
        request_id = asked.json()["id"]

        async def attribution_done():
            body = (await gateway.get(f"{REQUESTS}/{request_id}")).json()
            return body if {s["service"]: s["status"] for s in body["services"]}["attribution"] == "done" else None

        body = await eventually(attribution_done)
        assert body["status"] == "in_progress"
        assert {s["service"]: s["status"] for s in body["services"]}["audit"] == "unavailable"
    finally:
        await asyncio.to_thread(_start_audit, platform)
    done = await finished(gateway, request_id)
    assert [a["done"] for a in {s["service"]: s["receipt"] for s in done["services"]}["audit"]["actions"]] == ["none held"]


def _start_audit(platform) -> None:
    platform.start_service("audit", SERVICE_ENV)
    services.wait_healthy(platform.s, "audit")
