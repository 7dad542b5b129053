"""Enrolments and deals through the gateway: each deal rule refused naming its field, the 409s
(a creator enrolled twice, an ended campaign, money recorded, a currency or dates the deals no
longer fit), the campaign's cost, another tenant's 404, a retried enrolment made once, and each
change published on attribution.campaign.v1."""

import asyncio
import json
import uuid

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CAMPAIGNS = "/v1/attribution/campaigns"


@pytest_asyncio.fixture(scope="session")
async def attribution_db(service_dsn):
    """Attribution's database as its own role: for what no route does yet (the ledger marking
    an enrolment as having money recorded against it)."""
    pool = await asyncpg.create_pool(service_dsn("attribution"), min_size=1, max_size=2)
    yield pool
    await pool.close()


async def campaign(client, **overrides) -> dict:
    response = await client.post(
        CAMPAIGNS,
        json={"name": f"deals-{uuid.uuid4().hex[:8]}", "brand": "Acme", "starts_on": "2027-03-01",
              "ends_on": "2027-03-31", "budget": 1_000_000, "currency": "EUR", **overrides},
    )
    assert response.status_code == 201, response.text
    return response.json()


def paid(**overrides) -> dict:
    return {
        "creator_id": str(uuid.uuid4()),
        "deal_type": "paid",
        "fee": 150_000,
        "product_value": 8_900,
        "deliverables": [
            {"platform": "instagram", "format": "reel", "count": 2, "due_on": "2027-03-10"},
            {"platform": "tiktok", "format": "video", "count": 1, "due_on": "2027-03-31"},
        ],
        "whitelisting": {"channels": ["meta_ads", "tiktok_spark_ads"], "starts_on": "2027-03-01",
                         "ends_on": "2027-06-30", "status": "requested"},
        **overrides,
    }


async def enrol(client, campaign_id: str, **overrides) -> dict:
    response = await client.post(f"{CAMPAIGNS}/{campaign_id}/creators", json=paid(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def fields(response) -> list[str]:
    return [problem["field"] for problem in response.json()["detail"]]


async def test_an_enrolment_reads_back_with_its_deal_in_the_campaigns_currency(gateway):
    made = await campaign(gateway)
    sent = paid()
    enrolled = await enrol(gateway, made["id"], **sent)
    expected = {k: v for k, v in sent.items()}
    assert {k: enrolled[k] for k in expected} == expected
    assert enrolled["currency"] == "EUR" and enrolled["campaign_id"] == made["id"] and enrolled["money_recorded"] is False
    read = await gateway.get(f"{CAMPAIGNS}/{made['id']}/creators/{sent['creator_id']}")
    assert read.status_code == 200 and read.json() == enrolled
    listed = (await gateway.get(f"{CAMPAIGNS}/{made['id']}/creators")).json()
    assert listed == {"items": [enrolled], "next_cursor": None}


async def test_fee_and_product_value_default_to_nothing_and_rights_to_none(gateway):
    made = await campaign(gateway)
    creator = str(uuid.uuid4())
    response = await gateway.post(f"{CAMPAIGNS}/{made['id']}/creators", json={"creator_id": creator, "deal_type": "affiliate"})
    assert response.status_code == 201, response.text
    assert {k: response.json()[k] for k in ("fee", "product_value", "deliverables", "whitelisting")} == {
        "fee": 0, "product_value": 0, "deliverables": [], "whitelisting": None,
    }


async def test_rights_sent_without_a_status_are_requested(gateway):
    made = await campaign(gateway)
    rights = {"channels": ["x_ads"], "starts_on": "2027-03-01", "ends_on": "2027-03-01"}
    enrolled = await enrol(gateway, made["id"], whitelisting=rights)
    assert enrolled["whitelisting"] == {**rights, "status": "requested"}
    url = f"{CAMPAIGNS}/{made['id']}/creators/{enrolled['creator_id']}"
    changed = await gateway.patch(url, json={"whitelisting": {**rights, "ends_on": "2027-09-30"}})
    assert changed.status_code == 200 and changed.json()["whitelisting"]["status"] == "requested"
    assert (await gateway.get(url)).json() == changed.json()


def _deliverable(**overrides) -> list[dict]:
    return [{"platform": "instagram", "format": "post", "count": 1, "due_on": "2027-03-15", **overrides}]


def _rights(**overrides) -> dict:
    return {"channels": ["meta_ads"], "starts_on": "2027-03-01", "ends_on": "2027-04-30", "status": "granted", **overrides}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"fee": 0}, "body.fee"),  # paid needs a fee
        ({"deal_type": "hybrid", "fee": 0}, "body.fee"),
        ({"deal_type": "affiliate", "fee": 100}, "body.fee"),
        ({"deal_type": "gifted", "fee": 100, "product_value": 5000}, "body.fee"),
        ({"deal_type": "gifted", "fee": 0, "product_value": 0}, "body.product_value"),
        ({"fee": "1500.00"}, "body.fee"),
        ({"fee": 1500.5}, "body.fee"),
        ({"fee": -1}, "body.fee"),
        ({"product_value": "89.00"}, "body.product_value"),
        ({"deal_type": "barter"}, "body.deal_type"),
        ({"creator_id": "@maya"}, "body.creator_id"),
        ({"deliverables": _deliverable(count=0)}, "body.deliverables.0.count"),
        ({"deliverables": _deliverable(platform="myspace")}, "body.deliverables.0.platform"),
        ({"deliverables": _deliverable(format="hologram")}, "body.deliverables.0.format"),
        ({"deliverables": _deliverable(format="short")}, "body.deliverables.0.format"),  # Instagram has no shorts
        ({"deliverables": _deliverable(due_on="2027-03-32")}, "body.deliverables.0.due_on"),
        ({"whitelisting": _rights(ends_on="2027-02-28")}, "body.whitelisting.ends_on"),
        ({"whitelisting": _rights(channels=[])}, "body.whitelisting.channels"),
        ({"whitelisting": _rights(channels=["meta_ads", "meta_ads"])}, "body.whitelisting.channels"),
        ({"whitelisting": _rights(channels=["billboards"])}, "body.whitelisting.channels.0"),
        ({"whitelisting": _rights(status="maybe")}, "body.whitelisting.status"),
    ],
)
async def test_a_deal_that_does_not_hold_together_is_refused_naming_the_field(gateway, overrides, field):
    made = await campaign(gateway)
    response = await gateway.post(f"{CAMPAIGNS}/{made['id']}/creators", json=paid(**overrides))
    assert response.status_code == 422, response.text
    assert fields(response) == [field], response.text
    assert (await gateway.get(f"{CAMPAIGNS}/{made['id']}/creators")).json()["items"] == []


@pytest.mark.parametrize(
    ("deliverables", "field"),
    [(_deliverable(due_on="2027-02-28"), "body.deliverables.0.due_on"),
     ([*_deliverable(), *_deliverable(due_on="2027-04-01")], "body.deliverables.1.due_on")],
)
async def test_a_deliverable_due_outside_the_campaign_conflicts_with_its_dates(gateway, deliverables, field):
    made = await campaign(gateway)
    response = await gateway.post(f"{CAMPAIGNS}/{made['id']}/creators", json=paid(deliverables=deliverables))
    assert response.status_code == 409 and fields(response) == [field], response.text
    assert "2027-03-01 to 2027-03-31" in response.json()["detail"][0]["reason"]


async def test_a_fee_as_a_decimal_string_is_refused_saying_it_is_in_minor_units(gateway):
    made = await campaign(gateway)
    response = await gateway.post(f"{CAMPAIGNS}/{made['id']}/creators", json=paid(fee="1500.00"))
    assert response.status_code == 422 and "minor units" in response.json()["detail"][0]["reason"]


@pytest.mark.parametrize(
    ("deal", "amounts"),
    [("gifted", {"fee": 0, "product_value": 12_000}), ("paid", {"fee": 50_000, "product_value": 0}),
     ("affiliate", {"fee": 0, "product_value": 3_000}), ("hybrid", {"fee": 20_000, "product_value": 3_000})],
)
async def test_each_deal_type_is_accepted_on_its_own_terms(gateway, deal, amounts):
    made = await campaign(gateway)
    enrolled = await enrol(gateway, made["id"], deal_type=deal, **amounts)
    assert (enrolled["deal_type"], enrolled["fee"], enrolled["product_value"]) == (deal, amounts["fee"], amounts["product_value"])


async def test_a_creator_is_enrolled_once_per_campaign(gateway):
    made, elsewhere = await campaign(gateway), await campaign(gateway)
    first = await enrol(gateway, made["id"])
    again = await gateway.post(f"{CAMPAIGNS}/{made['id']}/creators", json=paid(creator_id=first["creator_id"], fee=1))
    assert again.status_code == 409 and fields(again) == ["body.creator_id"]
    assert first["creator_id"] in again.json()["detail"][0]["reason"]
    assert (await gateway.get(f"{CAMPAIGNS}/{made['id']}/creators/{first['creator_id']}")).json() == first
    # Another campaign is another deal.
    assert (await enrol(gateway, elsewhere["id"], creator_id=first["creator_id"]))["campaign_id"] == elsewhere["id"]


async def test_concurrent_enrolments_of_a_creator_make_one_and_conflict_the_rest(gateway):
    # The campaign's row lock puts them in line: each later one meets "already enrolled" (409),
    # none the unique constraint (a 500).
    made = await campaign(gateway)
    sent = paid()
    answers = await asyncio.gather(*(gateway.post(f"{CAMPAIGNS}/{made['id']}/creators", json=sent) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409, 409], [a.text for a in answers]
    assert len((await gateway.get(f"{CAMPAIGNS}/{made['id']}/creators")).json()["items"]) == 1


async def test_a_retried_enrolment_with_an_idempotency_key_enrols_once(gateway):
    made = await campaign(gateway)
    key, sent = {"Idempotency-Key": f"k-{uuid.uuid4()}"}, paid()
    first = await gateway.post(f"{CAMPAIGNS}/{made['id']}/creators", json=sent, headers=key)
    again = await gateway.post(f"{CAMPAIGNS}/{made['id']}/creators", json=sent, headers=key)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert len((await gateway.get(f"{CAMPAIGNS}/{made['id']}/creators")).json()["items"]) == 1


async def test_an_ended_campaign_takes_no_enrolment_and_its_deals_are_frozen(gateway):
    made = await campaign(gateway)
    url = f"{CAMPAIGNS}/{made['id']}"
    enrolled = await enrol(gateway, made["id"])
    for step in ("active", "ended"):
        assert (await gateway.patch(url, json={"status": step})).status_code == 200
    refused = [
        await gateway.post(f"{url}/creators", json=paid()),
        await gateway.patch(f"{url}/creators/{enrolled['creator_id']}", json={"fee": 1}),
        await gateway.delete(f"{url}/creators/{enrolled['creator_id']}"),
    ]
    for response in refused:
        assert response.status_code == 409 and fields(response) == ["path.campaign_id"], response.text
    assert (await gateway.get(f"{url}/creators")).json()["items"] == [enrolled]


async def test_a_deal_change_is_checked_as_a_whole(gateway):
    made = await campaign(gateway)
    url = f"{CAMPAIGNS}/{made['id']}/creators/{(await enrol(gateway, made['id']))['creator_id']}"
    # Contradicting itself: an invalid body.
    invalid = await gateway.patch(url, json={"deal_type": "affiliate", "fee": 100})
    assert invalid.status_code == 422 and fields(invalid) == ["body.fee"]
    # affiliate with the stored paid fee still on it: a conflict with the deal, naming the fee to send.
    still_paid = await gateway.patch(url, json={"deal_type": "affiliate"})
    assert still_paid.status_code == 409 and fields(still_paid) == ["body.fee"]
    unpaid = await gateway.patch(url, json={"fee": 0})
    assert unpaid.status_code == 409 and fields(unpaid) == ["body.fee"]
    moved = await gateway.patch(url, json={"deal_type": "affiliate", "fee": 0})
    assert moved.status_code == 200 and (moved.json()["deal_type"], moved.json()["fee"]) == ("affiliate", 0)
    no_value = await gateway.patch(url, json={"deal_type": "gifted", "product_value": 0})
    assert no_value.status_code == 422 and fields(no_value) == ["body.product_value"]
    late = await gateway.patch(url, json={"deliverables": _deliverable(due_on="2027-04-02")})
    assert late.status_code == 409 and fields(late) == ["body.deliverables.0.due_on"]
    cleared = await gateway.patch(url, json={"deal_type": None})
    assert cleared.status_code == 422 and fields(cleared) == ["body.deal_type"]
    assert (await gateway.get(url)).json() == moved.json()
    withdrawn = await gateway.patch(url, json={"whitelisting": None, "deliverables": _deliverable()})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["whitelisting"] is None and withdrawn.json()["deliverables"] == _deliverable()


async def test_an_enrolment_is_removed_until_money_is_recorded_against_it(gateway, attribution_db):
    made = await campaign(gateway)
    url = f"{CAMPAIGNS}/{made['id']}/creators"
    gone, kept = await enrol(gateway, made["id"]), await enrol(gateway, made["id"])
    assert (await gateway.delete(f"{url}/{gone['creator_id']}")).status_code == 204
    assert (await gateway.get(f"{url}/{gone['creator_id']}")).status_code == 404
    assert (await gateway.delete(f"{url}/{gone['creator_id']}")).status_code == 404
    # What the commission ledger does when it writes its first entry for this creator here.
    await attribution_db.execute(
        "update attribution.enrolments set money_recorded = true where campaign_id = $1 and creator_id = $2",
        uuid.UUID(made["id"]), uuid.UUID(kept["creator_id"]),
    )
    refused = await gateway.delete(f"{url}/{kept['creator_id']}")
    assert refused.status_code == 409 and fields(refused) == ["path.creator_id"], refused.text
    assert (await gateway.get(f"{url}/{kept['creator_id']}")).json()["money_recorded"] is True


async def test_an_enrolment_with_a_live_code_or_link_is_not_removed_until_they_are_revoked(gateway):
    """Else an order carrying them would be credited to a creator no longer in the campaign."""
    made = await campaign(gateway)
    url = f"{CAMPAIGNS}/{made['id']}/creators"
    creator = (await enrol(gateway, made["id"]))["creator_id"]
    code = (await gateway.post("/v1/attribution/codes", json={
        "campaign_id": made["id"], "creator_id": creator, "code": f"LIVE{uuid.uuid4().hex[:8].upper()}"})).json()
    link = (await gateway.post("/v1/attribution/links", json={
        "campaign_id": made["id"], "creator_id": creator, "destination": "https://shop.example/p"})).json()
    for revoke in (f"/v1/attribution/codes/{code['id']}/revoke", f"/v1/attribution/links/{link['id']}/revoke", None):
        answer = await gateway.delete(f"{url}/{creator}")
        if revoke is None:
            assert answer.status_code == 204, answer.text
            break
        assert answer.status_code == 409 and fields(answer) == ["path.creator_id"], answer.text
        reason = answer.json()["detail"][0]["reason"]
        assert (f"link {link['slug']}" in reason) and ((f"code {code['code']}" in reason) == ("codes" in revoke)), reason
        assert (await gateway.get(f"{url}/{creator}")).status_code == 200
        assert (await gateway.post(revoke)).status_code == 200
    assert (await gateway.get(f"{url}/{creator}")).status_code == 404


async def test_a_code_or_link_made_while_the_creator_is_unenrolled_never_outlives_the_enrolment(gateway):
    """Made at the same moment, one of the two waits for the other (both lock the campaign, then
    the enrolment): either the tracking is made and the unenrolment refused, or the creator is
    gone and the tracking refused; never a 500 (a deadlock) nor tracking without an enrolment."""
    made = await campaign(gateway)
    url = f"{CAMPAIGNS}/{made['id']}/creators"
    for attempt in range(6):
        creator = (await enrol(gateway, made["id"]))["creator_id"]
        body = {"campaign_id": made["id"], "creator_id": creator}
        make = (gateway.post("/v1/attribution/codes", json={**body, "code": f"RACE{uuid.uuid4().hex[:8].upper()}"})
                if attempt % 2 else gateway.post("/v1/attribution/links", json={**body, "destination": "https://shop.example/p"}))
        tracking, removal = await asyncio.gather(make, gateway.delete(f"{url}/{creator}"))
        pair = (tracking.status_code, removal.status_code)
        assert pair in {(201, 409), (404, 204), (409, 204), (422, 204)}, (pair, tracking.text, removal.text)
        enrolled = (await gateway.get(f"{url}/{creator}")).status_code
        assert enrolled == (200 if tracking.status_code == 201 else 404)


async def test_the_cost_sums_fees_and_product_value_in_the_campaigns_currency(gateway):
    made = await campaign(gateway, currency="JPY", budget=500_000)
    empty = (await gateway.get(f"{CAMPAIGNS}/{made['id']}/cost")).json()
    assert empty == {"campaign_id": made["id"], "currency": "JPY", "enrolments": 0, "fees": 0, "product_value": 0,
                     "commission": 0, "total": 0, "budget": 500_000, "budget_remaining": 500_000}
    await enrol(gateway, made["id"], fee=150_000, product_value=8_900)
    await enrol(gateway, made["id"], deal_type="gifted", fee=0, product_value=12_000)
    await enrol(gateway, made["id"], deal_type="affiliate", fee=0, product_value=0)
    hybrid = await enrol(gateway, made["id"], deal_type="hybrid", fee=400_000, product_value=0)
    cost = (await gateway.get(f"{CAMPAIGNS}/{made['id']}/cost")).json()
    assert (cost["enrolments"], cost["fees"], cost["product_value"], cost["commission"]) == (4, 550_000, 20_900, 0)
    assert (cost["total"], cost["budget_remaining"]) == (570_900, -70_900)
    await gateway.delete(f"{CAMPAIGNS}/{made['id']}/creators/{hybrid['creator_id']}")
    after = (await gateway.get(f"{CAMPAIGNS}/{made['id']}/cost")).json()
    assert (after["enrolments"], after["fees"], after["total"]) == (3, 150_000, 170_900)


async def test_the_currency_cannot_change_under_deals_with_money_in_them(gateway):
    made = await campaign(gateway)
    url = f"{CAMPAIGNS}/{made['id']}"
    affiliate = await enrol(gateway, made["id"], deal_type="affiliate", fee=0, product_value=0)
    # No money in the deals yet: the currency can change, with the budget restated in it.
    unstated = await gateway.patch(url, json={"currency": "JPY"})
    assert unstated.status_code == 409 and fields(unstated) == ["body.budget"]
    moved = await gateway.patch(url, json={"currency": "JPY", "budget": 1_600_000})
    assert moved.status_code == 200 and (moved.json()["currency"], moved.json()["budget"]) == ("JPY", 1_600_000)
    await gateway.patch(f"{url}/creators/{affiliate['creator_id']}", json={"product_value": 3_000})
    refused = await gateway.patch(url, json={"currency": "EUR", "budget": 1_000_000})
    assert refused.status_code == 409 and fields(refused) == ["body.currency"], refused.text
    assert (await gateway.get(url)).json()["currency"] == "JPY"
    assert (await gateway.get(f"{url}/creators/{affiliate['creator_id']}")).json()["currency"] == "JPY"


async def test_campaign_dates_cannot_leave_a_deliverable_outside_them(gateway):
    made = await campaign(gateway)
    url = f"{CAMPAIGNS}/{made['id']}"
    await enrol(gateway, made["id"])  # a deliverable due 2027-03-31
    refused = await gateway.patch(url, json={"ends_on": "2027-03-30"})
    assert refused.status_code == 409 and fields(refused) == ["body.ends_on"], refused.text
    assert (await gateway.patch(url, json={"ends_on": "2027-04-30"})).status_code == 200


async def test_enrolments_page_by_cursor(gateway):
    made = await campaign(gateway)
    creators = [(await enrol(gateway, made["id"]))["creator_id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await gateway.get(f"{CAMPAIGNS}/{made['id']}/creators", params=params)).json()
        assert len(page["items"]) <= 2
        seen += [e["creator_id"] for e in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == creators


async def test_another_tenant_sees_neither_the_enrolments_nor_the_cost(gateway, other_gateway):
    made = await campaign(gateway)
    enrolled = await enrol(gateway, made["id"])
    url = f"{CAMPAIGNS}/{made['id']}"
    for path in (f"{url}/creators", f"{url}/creators/{enrolled['creator_id']}", f"{url}/cost"):
        assert (await other_gateway.get(path)).status_code == 404, path
    assert (await other_gateway.post(f"{url}/creators", json=paid())).status_code == 404
    assert (await other_gateway.patch(f"{url}/creators/{enrolled['creator_id']}", json={"fee": 1})).status_code == 404
    assert (await other_gateway.delete(f"{url}/creators/{enrolled['creator_id']}")).status_code == 404
    assert (await gateway.get(f"{url}/creators")).json()["items"] == [enrolled]


async def test_an_unknown_campaign_is_a_404(gateway):
    nobody = f"{CAMPAIGNS}/{uuid.uuid4()}"
    assert (await gateway.post(f"{nobody}/creators", json=paid())).status_code == 404
    assert (await gateway.get(f"{nobody}/creators")).status_code == 404
    assert (await gateway.get(f"{nobody}/cost")).status_code == 404


async def _events_for(platform, campaign_id: str, count: int) -> list[dict]:
    consumer = AIOKafkaConsumer(
        "attribution.campaign.v1", bootstrap_servers=platform.s.kafka_bootstrap, auto_offset_reset="earliest",
        group_id=f"test.deals-{uuid.uuid4().hex[:8]}", enable_auto_commit=False,
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


async def test_enrolment_changes_are_published_in_order_with_the_campaign(platform, gateway, tenant):
    made = await campaign(gateway)
    url = f"{CAMPAIGNS}/{made['id']}/creators"
    enrolled = await enrol(gateway, made["id"])
    refused = await gateway.patch(f"{url}/{enrolled['creator_id']}", json={"fee": 0})  # a 409 publishes nothing
    assert refused.status_code == 409
    changed = await gateway.patch(f"{url}/{enrolled['creator_id']}", json={"fee": 175_000, "whitelisting": None})
    assert changed.status_code == 200
    assert (await gateway.delete(f"{url}/{enrolled['creator_id']}")).status_code == 204
    events = await _events_for(platform, made["id"], 4)
    assert [e["event_type"] for e in events] == ["CampaignCreated", "CreatorEnrolled", "DealChanged", "CreatorUnenrolled"]
    assert [e["sequence"] for e in events] == [1, 2, 3, 4]
    assert {e["tenant_id"] for e in events} == {str(tenant.tenant_id)}
    _, joined, deal, left = (e["payload"] for e in events)
    assert (joined["creator_id"], joined["fee_minor"], joined["product_value_minor"], joined["currency"]) == (
        enrolled["creator_id"], 150_000, 8_900, "EUR")
    assert joined["deliverables"] == enrolled["deliverables"] and joined["whitelisting"] == enrolled["whitelisting"]
    assert (deal["changed_fields"], deal["fee_minor"], deal["whitelisting"]) == (["fee", "whitelisting"], 175_000, None)
    assert left["fee_minor"] == 175_000
