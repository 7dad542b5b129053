"""A creator created in discovery travels discovery -> outbox -> Kafka -> audit -> outbox ->
Kafka -> discovery, through the gateway, the real broker and the real database."""

import json

import pytest

from tests.conftest import eventually, exactly, processed_count, unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_new_creator_gets_a_pending_audit_projected_back(gateway):
    created = await gateway.post("/v1/discovery/creators", json={"platform": "instagram", "handle": unique_handle()})
    assert created.status_code == 201, created.text
    creator = created.json()
    assert creator["audit"]["status"] is None

    async def projected():
        body = (await gateway.get(f"/v1/discovery/creators/{creator['id']}")).json()
        return body if body["audit"]["status"] == "pending" else None

    body = await eventually(projected)
    audits = (await gateway.get("/v1/audit/audits", params={"creator_id": creator["id"]})).json()["items"]
    assert [a["id"] for a in audits] == [body["audit"]["audit_id"]]
    assert audits[0]["status"] == "pending"
    assert audits[0]["trigger"] == "creator_created"


async def test_correlation_id_follows_the_action_across_services(gateway, audit_db):
    correlation_id = f"test-{unique_handle()}"
    created = await gateway.post(
        "/v1/discovery/creators",
        json={"platform": "youtube", "handle": unique_handle()},
        headers={"X-Correlation-ID": correlation_id},
    )
    assert created.headers["x-correlation-id"] == correlation_id

    async def audit_event_correlation():
        return await audit_db.fetchval(
            "select correlation_id from audit.outbox where key = $1",
            created.json()["id"],
        )

    assert await eventually(audit_event_correlation) == correlation_id


async def test_follower_swing_while_an_audit_is_pending_adds_no_second_audit(gateway, audit_db, discovery_db):
    creator = (
        await gateway.post(
            "/v1/discovery/creators", json={"platform": "tiktok", "handle": unique_handle(), "follower_count": 1000}
        )
    ).json()

    async def audit_count():
        return await audit_db.fetchval("select count(*) from audit.audits where creator_id = $1::uuid", creator["id"])

    assert await eventually(audit_count) == 1
    changed = await gateway.patch(f"/v1/discovery/creators/{creator['id']}", json={"follower_count": 5000})
    assert changed.status_code == 200
    change_event = await discovery_db.fetchrow(
        "select event_id, convert_from(value, 'UTF8') as envelope from discovery.outbox "
        "where key = $1 and event_type = 'CreatorChanged'",
        creator["id"],
    )
    assert json.loads(change_event["envelope"])["payload"]["audit_needed"] is True

    await eventually(lambda: exactly(processed_count(audit_db, [change_event["event_id"]]), 1))
    assert await audit_count() == 1
