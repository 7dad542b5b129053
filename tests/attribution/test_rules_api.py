"""Commission rules through the gateway: versions made and never edited, a creator's override, the
rule in force at a given time, each invalid rule refused naming its field (422), the 409s (a
creator not enrolled, an ended campaign, an effective_from in the past or not after the latest),
a retried POST made once, and another tenant's 404. `rule_in_force` over versions in the past is
checked against the database directly (the API never makes a version in the past)."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.attribution.orders.model import LineItem, Order
from services.attribution.rules.compute import compute
from services.attribution.rules.models import CommissionRule
from services.attribution.rules.service import rule_in_force
from tests.attribution.conftest import unit_of_work

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CAMPAIGNS = "/v1/attribution/campaigns"


async def campaign(client, **overrides) -> dict:
    response = await client.post(
        CAMPAIGNS,
        json={"name": f"rules-{uuid.uuid4().hex[:8]}", "brand": "Acme", "starts_on": "2027-03-01",
              "ends_on": "2027-03-31", "budget": 1_000_000, "currency": "EUR", **overrides},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def enrol(client, campaign_id: str) -> str:
    creator_id = str(uuid.uuid4())
    response = await client.post(f"{CAMPAIGNS}/{campaign_id}/creators",
                                 json={"creator_id": creator_id, "deal_type": "affiliate"})
    assert response.status_code == 201, response.text
    return creator_id


async def new_rule(client, campaign_id: str, creator_id: str | None = None, **body) -> dict:
    url = f"{CAMPAIGNS}/{campaign_id}" + (f"/creators/{creator_id}" if creator_id else "") + "/rules"
    response = await client.post(url, json={"percent": "10", **body})
    assert response.status_code == 201, response.text
    return response.json()


def fields(response) -> list[str]:
    return [problem["field"] for problem in response.json()["detail"]]


def later(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def test_a_rule_reads_back_with_its_defaults(gateway):
    made = await campaign(gateway, currency="JPY")
    rule = await new_rule(gateway, made["id"], percent="12.50", flat=100,
                          tiers=[{"above": 100000, "percent": "15"}], product_rates=[{"match": "sku", "value": "TEE-M", "percent": "20"}])
    assert rule["version"] == 1 and rule["creator_id"] is None and rule["currency"] == "JPY"
    assert (rule["percent"], rule["flat"], rule["tiers"]) == ("12.5", 100, [{"above": 100000, "percent": "15"}])
    assert (rule["include_tax"], rule["include_shipping"], rule["holding_days"], rule["window_days"]) == (False, False, 30, 30)
    assert rule["product_rates"] == [{"match": "sku", "value": "TEE-M", "percent": "20"}]
    assert (rule["cap_per_order"], rule["cap_per_period"]) == (None, None)


async def test_each_change_is_a_new_version_and_versions_stay(gateway):
    made = await campaign(gateway)
    first = await new_rule(gateway, made["id"], percent="10")
    second = await new_rule(gateway, made["id"], percent="12", cap_per_order=500)
    assert (first["version"], second["version"]) == (1, 2)
    assert second["effective_from"] > first["effective_from"]
    listed = (await gateway.get(f"{CAMPAIGNS}/{made['id']}/rules")).json()
    assert listed["items"] == [first, second]
    assert (await gateway.get(f"{CAMPAIGNS}/{made['id']}/rules/current")).json() == second


async def test_the_rule_in_force_at_a_time_is_the_latest_effective_then(gateway):
    made = await campaign(gateway)
    url = f"{CAMPAIGNS}/{made['id']}/rules"
    first = await new_rule(gateway, made["id"], percent="10")
    second = await new_rule(gateway, made["id"], percent="12", effective_from=later(days=10))
    third = await new_rule(gateway, made["id"], percent="15", effective_from=later(days=20))
    assert (await gateway.get(f"{url}/current")).json() == first  # the others are not in force yet
    for at, expected in ((later(days=5), first), (later(days=10, seconds=1), second), (later(days=40), third)):
        response = await gateway.get(f"{url}/current", params={"at": at})
        assert response.json() == expected, (at, response.text)
    before = await gateway.get(f"{url}/current", params={"at": "2020-01-01T00:00:00Z"})
    assert before.status_code == 404, before.text


async def test_a_creators_override_takes_precedence_for_that_creator_only(gateway):
    made = await campaign(gateway)
    maya, leo = await enrol(gateway, made["id"]), await enrol(gateway, made["id"])
    campaign_rule = await new_rule(gateway, made["id"], percent="10")
    override = await new_rule(gateway, made["id"], maya, percent="15")
    assert override["creator_id"] == maya and override["version"] == 1
    current = f"{CAMPAIGNS}/{made['id']}/rules/current"
    assert (await gateway.get(current, params={"creator_id": maya})).json() == override
    assert (await gateway.get(current, params={"creator_id": leo})).json() == campaign_rule
    assert (await gateway.get(current)).json() == campaign_rule
    # The override's versions are its own: the campaign's list does not show them.
    assert (await gateway.get(f"{CAMPAIGNS}/{made['id']}/creators/{maya}/rules")).json()["items"] == [override]
    assert (await gateway.get(f"{CAMPAIGNS}/{made['id']}/creators/{leo}/rules")).json()["items"] == []
    assert (await gateway.get(f"{CAMPAIGNS}/{made['id']}/rules")).json()["items"] == [campaign_rule]
    second = await new_rule(gateway, made["id"], maya, percent="16")
    assert second["version"] == 2


async def test_an_override_for_a_creator_not_enrolled_is_a_conflict_naming_the_creator(gateway):
    made = await campaign(gateway)
    stranger = str(uuid.uuid4())
    refused = await gateway.post(f"{CAMPAIGNS}/{made['id']}/creators/{stranger}/rules", json={"percent": "10"})
    assert refused.status_code == 409 and fields(refused) == ["path.creator_id"], refused.text
    assert stranger in refused.json()["detail"][0]["reason"]
    listed = await gateway.get(f"{CAMPAIGNS}/{made['id']}/creators/{stranger}/rules")
    assert listed.status_code == 404, listed.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"percent": "100.01"}, "body.percent"),
        ({"percent": "-1"}, "body.percent"),
        ({"percent": "10.12345"}, "body.percent"),
        ({"percent": 10}, "body.percent"),
        ({"percent": "10", "tiers": [{"above": 1000, "percent": "12"}, {"above": 1000, "percent": "15"}]}, "body.tiers.1.above"),
        ({"tiers": [{"above": 1000, "percent": "12"}]}, "body.percent"),
        ({"percent": "10", "cap_per_order": -1}, "body.cap_per_order"),
        ({"percent": "10", "cap_per_period": -500}, "body.cap_per_period"),
        ({"flat": -5}, "body.flat"),
        ({"flat": "2.00"}, "body.flat"),
        ({"include_tax": True}, "body.percent"),
        ({"percent": "10", "holding_days": -1}, "body.holding_days"),
        ({"percent": "10", "window_days": 0}, "body.window_days"),
        ({"percent": "10", "product_rates": [{"match": "sku", "value": "A", "percent": "5"},
                                             {"match": "sku", "value": "A", "percent": "6"}]}, "body.product_rates.1.value"),
        ({"percent": "10", "product_rates": [{"match": "brand", "value": "A", "percent": "5"}]}, "body.product_rates.0.match"),
        ({"percent": "10", "effective_from": "2027-01-01T00:00:00"}, "body.effective_from"),
        ({"flat": 200, "currency": "USD"}, "body.currency"),
    ],
)
async def test_an_invalid_rule_is_refused_naming_the_field(gateway, body, field):
    made = await campaign(gateway)
    response = await gateway.post(f"{CAMPAIGNS}/{made['id']}/rules", json=body)
    assert response.status_code == 422 and field in fields(response), response.text
    assert (await gateway.get(f"{CAMPAIGNS}/{made['id']}/rules")).json()["items"] == []


async def test_the_campaigns_own_currency_may_be_stated(gateway):
    made = await campaign(gateway, currency="USD")
    assert (await new_rule(gateway, made["id"], flat=200, currency="USD"))["currency"] == "USD"


async def test_a_version_cannot_take_effect_in_the_past_or_before_the_latest(gateway):
    made = await campaign(gateway)
    url = f"{CAMPAIGNS}/{made['id']}/rules"
    past = await gateway.post(url, json={"percent": "10", "effective_from": "2026-01-01T00:00:00Z"})
    assert past.status_code == 409 and fields(past) == ["body.effective_from"], past.text
    await new_rule(gateway, made["id"], effective_from=later(days=10))
    early = await gateway.post(url, json={"percent": "12", "effective_from": later(days=5)})
    assert early.status_code == 409 and fields(early) == ["body.effective_from"], early.text
    assert "version 1" in early.json()["detail"][0]["reason"]
    now = await gateway.post(url, json={"percent": "12"})  # now is before version 1's start too
    assert now.status_code == 409, now.text


async def test_an_ended_campaigns_rules_are_frozen(gateway):
    made = await campaign(gateway)
    creator = await enrol(gateway, made["id"])
    await new_rule(gateway, made["id"])
    for step in ("active", "ended"):
        assert (await gateway.patch(f"{CAMPAIGNS}/{made['id']}", json={"status": step})).status_code == 200
    for url in (f"{CAMPAIGNS}/{made['id']}/rules", f"{CAMPAIGNS}/{made['id']}/creators/{creator}/rules"):
        refused = await gateway.post(url, json={"percent": "20"})
        assert refused.status_code == 409 and fields(refused) == ["path.campaign_id"], refused.text


async def test_a_retried_rule_with_an_idempotency_key_is_made_once(gateway):
    made = await campaign(gateway)
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = await gateway.post(f"{CAMPAIGNS}/{made['id']}/rules", json={"percent": "10"}, headers=key)
    again = await gateway.post(f"{CAMPAIGNS}/{made['id']}/rules", json={"percent": "10"}, headers=key)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert len((await gateway.get(f"{CAMPAIGNS}/{made['id']}/rules")).json()["items"]) == 1


async def test_concurrent_versions_are_numbered_one_after_the_other(gateway):
    made = await campaign(gateway)
    answers = await asyncio.gather(*(gateway.post(f"{CAMPAIGNS}/{made['id']}/rules", json={"percent": str(n)}) for n in range(5)))
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    assert sorted(a.json()["version"] for a in answers) == [1, 2, 3, 4, 5]


async def test_versions_page_by_cursor(gateway):
    made = await campaign(gateway)
    for n in range(3):
        await new_rule(gateway, made["id"], percent=str(n))
    first = (await gateway.get(f"{CAMPAIGNS}/{made['id']}/rules", params={"limit": 2})).json()
    rest = (await gateway.get(f"{CAMPAIGNS}/{made['id']}/rules", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [r["version"] for r in first["items"] + rest["items"]] == [1, 2, 3] and rest["next_cursor"] is None


async def test_another_tenant_can_neither_read_nor_add_rules(gateway, other_gateway):
    made = await campaign(gateway)
    creator = await enrol(gateway, made["id"])
    await new_rule(gateway, made["id"])
    for path in ("rules", "rules/current", f"creators/{creator}/rules"):
        assert (await other_gateway.get(f"{CAMPAIGNS}/{made['id']}/{path}")).status_code == 404
    for path in ("rules", f"creators/{creator}/rules"):
        assert (await other_gateway.post(f"{CAMPAIGNS}/{made['id']}/{path}", json={"percent": "99"})).status_code == 404
    assert len((await gateway.get(f"{CAMPAIGNS}/{made['id']}/rules")).json()["items"]) == 1


async def test_an_unknown_campaign_is_a_404(gateway):
    unknown = uuid.uuid4()
    for method, path in (("GET", "rules"), ("GET", "rules/current"), ("POST", "rules")):
        response = await gateway.request(method, f"{CAMPAIGNS}/{unknown}/{path}", json={"percent": "1"} if method == "POST" else None)
        assert response.status_code == 404, response.text


async def test_an_order_is_paid_under_the_version_in_force_when_it_was_placed(gateway, sessions, tenant):
    """Versions dated in the past (written as the service writes them, bypassing the API's
    no-past rule) and an override: each order time finds its own version, and compute pays it."""
    made = await campaign(gateway)
    campaign_id = uuid.UUID(made["id"])
    maya = uuid.UUID(await enrol(gateway, made["id"]))
    jan, mar, feb = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 3, 2))
    columns = {"currency": "EUR", "include_tax": False, "include_shipping": False, "tiers": [], "window_days": 30,
               "product_rates": [], "holding_days": 30}
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        session.add_all([
            CommissionRule(campaign_id=campaign_id, creator_id=None, version=1, effective_from=jan, percent=Decimal("10"), **columns),
            CommissionRule(campaign_id=campaign_id, creator_id=None, version=2, effective_from=mar, percent=Decimal("12"), **columns),
            CommissionRule(campaign_id=campaign_id, creator_id=maya, version=1, effective_from=feb, percent=Decimal("20"), **columns),
        ])
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        found = {
            (who, when.month): await rule_in_force(session, campaign_id, who, when + timedelta(days=14))
            for who in (None, maya) for when in (jan, feb, mar)
        }
        assert await rule_in_force(session, campaign_id, maya, jan - timedelta(days=1)) is None
    assert {key: (r.creator_id, r.version) for key, r in found.items()} == {
        (None, 1): (None, 1), (None, 2): (None, 1), (None, 3): (None, 2),
        (maya, 1): (None, 1), (maya, 2): (maya, 1), (maya, 3): (maya, 1),
    }
    order = Order(source="generic", order_id="A-1", placed_at=mar + timedelta(days=14), currency="EUR",
                  lines=(LineItem("1", 1, 10000),))
    paid = compute(found[(None, 3)].terms(), order, revenue_in_window=0, new_customer=True, earned_in_period=0)
    assert paid.amount_minor == 1200
    assert "the campaign's rule, version 2" in paid.explanation
    # Another tenant's session finds none of it.
    async with unit_of_work(sessions, uuid.uuid4()) as session:
        assert await rule_in_force(session, campaign_id, maya, mar + timedelta(days=14)) is None


async def test_a_campaign_with_rules_keeps_its_currency(gateway):
    made = await campaign(gateway)
    await new_rule(gateway, made["id"], flat=200)
    refused = await gateway.patch(f"{CAMPAIGNS}/{made['id']}", json={"currency": "JPY", "budget": 100_000})
    assert refused.status_code == 409 and fields(refused) == ["body.currency"], refused.text
    assert (await gateway.get(f"{CAMPAIGNS}/{made['id']}")).json()["currency"] == "EUR"
