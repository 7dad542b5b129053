"""Campaigns through the gateway (first slice): validation naming fields, the status lifecycle,
pagination, and CampaignCreated / CampaignUpdated on Kafka carrying the owner's tenant_id."""

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CAMPAIGNS = "/v1/attribution/campaigns"
TOPIC = "attribution.campaign.v1"


def body(**overrides) -> dict:
    return {
        "name": f"spring-{uuid.uuid4().hex[:8]}",
        "brand": "Acme",
        "starts_on": "2027-03-01",
        "ends_on": "2027-03-31",
        "budget": 1250050,
        "currency": "EUR",
        **overrides,
    }


async def make(client, **overrides) -> dict:
    response = await client.post(CAMPAIGNS, json=body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def fields(response) -> list[str]:
    return [problem["field"] for problem in response.json()["detail"]]


async def test_a_campaign_starts_as_a_draft_and_reads_back_exactly(gateway):
    made = await make(gateway, currency="JPY", budget=1000000)
    assert made["status"] == "draft" and made["currency"] == "JPY" and made["budget"] == 1000000
    read = await gateway.get(f"{CAMPAIGNS}/{made['id']}")
    assert read.status_code == 200 and read.json() == made


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "XYZ"}, "body.currency"),
        ({"currency": "EURO"}, "body.currency"),
        ({"currency": "eur"}, "body.currency"),
        ({"currency": "XAU"}, "body.currency"),  # ISO 4217 has no minor unit for gold
        ({"budget": "12500.50"}, "body.budget"),
        ({"budget": "1250050"}, "body.budget"),
        ({"budget": 12500.5}, "body.budget"),
        ({"budget": -1}, "body.budget"),
        ({"budget": True}, "body.budget"),
        ({"budget": 10**16}, "body.budget"),
        ({"starts_on": "2027-02-30"}, "body.starts_on"),
        ({"ends_on": "2027-02-01"}, "body.ends_on"),
        ({"name": " "}, "body.name"),
        ({"brand": None}, "body.brand"),
        ({"status": "active"}, "body.status"),
    ],
)
async def test_bad_campaigns_are_refused_naming_the_field(gateway, overrides, field):
    response = await gateway.post(CAMPAIGNS, json=body(**overrides))
    assert response.status_code == 422, response.text
    assert field in fields(response), response.text


async def test_a_decimal_budget_is_refused_saying_it_is_in_minor_units(gateway):
    response = await gateway.post(CAMPAIGNS, json=body(budget="12500.50"))
    assert response.status_code == 422 and "minor units" in response.json()["detail"][0]["reason"], response.text


async def test_a_whole_float_budget_is_the_integer(gateway):
    # JSON Schema counts 1000.0 as an integer (shared.validation.integral_number).
    assert (await make(gateway, currency="JPY", budget=1000.0))["budget"] == 1000


async def test_a_change_that_puts_the_end_before_the_start_is_refused(gateway):
    made = await make(gateway)
    url = f"{CAMPAIGNS}/{made['id']}"
    # Against the stored end date: a conflict with the campaign's state.
    conflict = await gateway.patch(url, json={"starts_on": "2027-04-02"})
    assert conflict.status_code == 409 and fields(conflict) == ["body.starts_on"]
    # Contradicting itself: an invalid body.
    invalid = await gateway.patch(url, json={"starts_on": "2027-04-02", "ends_on": "2027-04-01"})
    assert invalid.status_code == 422 and fields(invalid) == ["body.ends_on"]
    assert (await gateway.get(url)).json() == made
    moved = await gateway.patch(url, json={"starts_on": "2027-04-02", "ends_on": "2027-04-30"})
    assert moved.status_code == 200 and moved.json()["ends_on"] == "2027-04-30"


async def test_status_moves_only_along_the_lifecycle(gateway):
    made = await make(gateway)
    url = f"{CAMPAIGNS}/{made['id']}"
    refused = await gateway.patch(url, json={"status": "paused"})
    assert refused.status_code == 409 and fields(refused) == ["body.status"]
    for step in ("active", "paused", "active", "ended"):
        moved = await gateway.patch(url, json={"status": step})
        assert moved.status_code == 200 and moved.json()["status"] == step, moved.text
    for late in ({"status": "active"}, {"name": "after the end"}):
        assert (await gateway.patch(url, json=late)).status_code == 409
    assert (await gateway.get(url)).json()["status"] == "ended"


async def test_campaigns_page_by_cursor_and_filter_by_status(other):
    made = [await make(other) for _ in range(3)]
    await other.patch(f"{CAMPAIGNS}/{made[1]['id']}", json={"status": "active"})
    seen, cursor = [], None
    while True:
        page = (await other.get(CAMPAIGNS, params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        seen += [c["id"] for c in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    ids = [c["id"] for c in made]
    assert [i for i in seen if i in ids] == ids and len(seen) == len(set(seen))
    active = (await other.get(CAMPAIGNS, params={"status": "active", "limit": 200})).json()["items"]
    assert made[1]["id"] in {c["id"] for c in active} and all(c["status"] == "active" for c in active)


async def _events_for(platform, campaign_id: str, count: int) -> list[dict]:
    consumer = AIOKafkaConsumer(
        TOPIC, bootstrap_servers=platform.s.kafka_bootstrap, auto_offset_reset="earliest",
        group_id=f"test.campaigns-{uuid.uuid4().hex[:8]}", enable_auto_commit=False,
    )
    await consumer.start()
    found: list[dict] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    found += [json.loads(r.value) for r in records if r.key == campaign_id.encode()]
    finally:
        await consumer.stop()
    return found


async def test_changes_are_published_with_the_owners_tenant(platform, gateway, tenant):
    made = await make(gateway)
    await gateway.patch(f"{CAMPAIGNS}/{made['id']}", json={"status": "active", "budget": 9999})
    created, updated = await _events_for(platform, made["id"], 2)
    assert created["event_type"] == "CampaignCreated" and updated["event_type"] == "CampaignUpdated"
    assert created["tenant_id"] == updated["tenant_id"] == str(tenant.tenant_id)
    assert (created["sequence"], updated["sequence"]) == (1, 2)
    assert updated["payload"]["status"] == "active"
    # budget as before (a decimal string), and budget_minor added beside it (attribution.campaign.v1).
    assert (updated["payload"]["budget"], updated["payload"]["budget_minor"]) == ("99.99", 9999)
    assert updated["payload"]["changed_fields"] == ["budget", "status"]


async def test_a_retried_create_with_an_idempotency_key_makes_one_campaign_per_tenant(gateway, other):
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    sent = body()
    first = await gateway.post(CAMPAIGNS, json=sent, headers=key)
    again = await gateway.post(CAMPAIGNS, json=sent, headers=key)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    theirs = await other.post(CAMPAIGNS, json=sent, headers=key)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert (await other.get(f"{CAMPAIGNS}/{first.json()['id']}")).status_code == 404
