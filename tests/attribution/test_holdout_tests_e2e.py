"""Holdout tests end to end: orders sent as signed Shopify webhooks with shipping addresses in a
treatment and a control group of regions, before and during the test; a holdout test created
through the gateway; its result — the lift in orders and revenue per currency, recomputed here
independently from what was sent, beside the revenue attributed to the campaign's creator — and
the 422s of a bad design, and another workspace's 404."""

import json
import random
import string
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from services.attribution.incrementality.estimate import Panel, days_between, estimate
from tests.attribution.test_crediting_e2e import brand_setup
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, with_order_id
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

DATA = Path(__file__).parent / "data" / "shopify"
TESTS = "/v1/attribution/holdout-tests"
PRE = days_between(date(2025, 3, 3), date(2025, 3, 9))
TEST = days_between(date(2025, 3, 10), date(2025, 3, 16))
BASIS = {"USD": 5950, "EUR": None}  # the USD fixture's basis; the EUR one's is read back


def regions(n: int) -> list[str]:
    """Region codes of this test's own (a valid ISO 3166-2 shape, no other test ships there)."""
    return [f"US-{''.join(random.choices(string.ascii_uppercase + string.digits, k=3))}" for _ in range(n)]


def order(day: date, region: str, code: str | None, fixture: str = "orders-create-usd-code-and-click.json") -> dict:
    data = with_order_id(json.loads((DATA / fixture).read_text()), new_order_id())
    data["created_at"] = data["updated_at"] = f"{day.isoformat()}T12:00:00Z"
    data["discount_codes"] = [{"code": code.lower(), "amount": "10.50", "type": "percentage"}] if code else []
    data["landing_site"], data["note_attributes"], data["refunds"] = "/products/black-tee", [], []
    data["cancelled_at"] = None
    data["shipping_address"] = {"address1": "1 Main St", "city": "Springfield", "name": "Ann Buyer",
                                "country_code": region[:2], "province_code": region[3:]}
    return data


def design(treatment: list[str], control: list[str], **changes) -> dict:
    return {"name": f"holdout-{uuid.uuid4().hex[:6]}", "unit": "region", "treatment": treatment, "control": control,
            "pre_period": {"start": PRE[0].isoformat(), "end": PRE[-1].isoformat()},
            "test_period": {"start": TEST[0].isoformat(), "end": TEST[-1].isoformat()}, **changes}


async def test_a_planted_lift_is_measured_beside_the_revenue_attributed_to_the_creator(gateway, anonymous, other_gateway):
    campaign_id, creator_id, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    # Four regions a group: the fewest whose 70 ways to choose the treated ones let a randomization
    # test reach 5 % (2 + 2 gives 6, and an explicit insufficient_data).
    treatment, control = regions(4), regions(4)
    base = dict(zip(treatment + control, (2, 1, 2, 1, 1, 2, 1, 2)))
    noise = random.Random(11)
    sent: list[tuple[date, str, dict]] = []
    for i, day in enumerate(PRE + TEST):
        for region in treatment + control:
            # Every region's own level, a shock common to all on every third day, an order more now
            # and then at random, and in the test period one more order a day in each treated
            # region, with the creator's code.
            for _ in range(base[region] + (1 if i % 3 == 0 else 0) + (noise.random() < 0.3)):
                sent.append((day, region, order(day, region, None)))
            if day in TEST and region in treatment:
                sent.append((day, region, order(day, region, code)))
    # One EUR order in a treated region: its revenue has no baseline in EUR, so no EUR estimate.
    sent.append((TEST[2], treatment[0], order(TEST[2], treatment[0], None, "orders-create-eur-taxes-included.json")))
    # And one order with no shipping address at all: counted nowhere, only as unplaced.
    unplaced = order(TEST[3], treatment[0], None)
    del unplaced["shipping_address"]
    for _, _, data in sent:
        await deliver_shopify(anonymous, source, "orders/create", data)
    await deliver_shopify(anonymous, source, "orders/create", unplaced)

    created = await gateway.post(TESTS, json=design([r.lower() for r in treatment], control, campaign_id=campaign_id))
    assert created.status_code == 201, created.text
    test = created.json()
    assert test["treatment"] == treatment and test["pre_period"] == {"start": "2025-03-03", "end": "2025-03-09"}

    async def counted():
        response = await gateway.get(f"{TESTS}/{test['id']}/result")
        assert response.status_code == 200, response.text
        found = response.json()
        totals = found["orders"]["group_totals"] or {}
        credited = sum(a["orders"] for a in found["attributed"])
        # Every order stored, every code order credited (crediting follows storing), the unplaced one too.
        complete = sum(totals.values()) == len(sent) and credited == len(TEST) * len(treatment)
        return found if complete and found["unplaced_orders"] == 1 else None

    result = await eventually(counted, timeout=120)

    # The same estimate, computed here from the orders as they were sent.
    counts: dict[tuple[str, date], float] = {}
    for day, region, _ in sent:
        counts[(region, day)] = counts.get((region, day), 0) + 1
    expected = estimate(Panel(tuple(treatment), tuple(control), PRE, TEST, counts))
    lift = result["orders"]
    assert lift["status"] == "estimated" and lift["missing"] == []
    assert lift["lift"] == pytest.approx(expected.lift, abs=0.01)
    assert lift["interval"] == pytest.approx(list(expected.interval), abs=0.01)
    assert lift["interval"][0] <= 28 <= lift["interval"][1] and lift["significant"] is True  # 28 planted
    assert lift["p_value"] == pytest.approx(expected.p_value, abs=1e-6) and lift["p_value"] <= 0.05
    assert (lift["assignments"], lift["assignments_exact"]) == (70, True)
    assert lift["degrees_of_freedom"] == 7 and len(lift["per_day"]) == 7
    assert result["days"] == {"pre_period": 7, "test_period": 7} and result["counted_through"] == "2025-03-16"
    assert result["units"] == {"treatment": treatment, "control": control}
    assert "difference-in-differences" in result["method"] and "clustered by unit" in result["method"]
    # Revenue per currency: USD estimated in USD cents; EUR says what it lacks, never a figure.
    by_currency = {r["currency"]: r for r in result["revenue"]}
    assert set(by_currency) == {"USD", "EUR"}
    usd = by_currency["USD"]
    usd_revenue: dict[tuple[str, date], float] = {}
    for day, region, data in sent:
        if data["currency"] == "USD":
            usd_revenue[(region, day)] = usd_revenue.get((region, day), 0) + BASIS["USD"]
    expected_usd = estimate(Panel(tuple(treatment), tuple(control), PRE, TEST, usd_revenue))
    assert usd["status"] == "estimated" and usd["lift"] == pytest.approx(expected_usd.lift, abs=1)
    eur = by_currency["EUR"]
    assert eur["status"] == "insufficient_data" and eur["lift"] is None and eur["interval"] is None
    assert "the treatment group has no revenue in EUR in the pre-period" in eur["missing"]
    # Beside it: the 28 orders crediting gave the creator's code, in the treatment group, test period.
    assert result["attributed"] == [{"currency": "USD", "orders": 28, "revenue": 28 * BASIS["USD"]}]
    assert result["unplaced_orders"] == 1

    # Read back, listed, and private to the workspace.
    assert (await gateway.get(f"{TESTS}/{test['id']}")).json() == test
    listed = (await gateway.get(TESTS, params={"campaign_id": campaign_id})).json()
    assert [t["id"] for t in listed["items"]] == [test["id"]] and listed["next_cursor"] is None
    for path in (f"{TESTS}/{test['id']}", f"{TESTS}/{test['id']}/result"):
        assert (await other_gateway.get(path)).status_code == 404
    assert test["id"] not in [t["id"] for t in (await other_gateway.get(TESTS)).json()["items"]]


async def test_a_test_without_orders_or_complete_days_says_what_is_missing(gateway):
    quiet = (await gateway.post(TESTS, json=design(regions(2), regions(2)))).json()
    result = (await gateway.get(f"{TESTS}/{quiet['id']}/result")).json()
    assert result["orders"]["status"] == "insufficient_data" and result["orders"]["lift"] is None
    assert "the treatment group has no orders in the pre-period" in result["orders"]["missing"]
    # 2 + 2 regions: too few ways to choose the treated ones for any interval, said beside it.
    assert ("with 2 treatment and 2 control units there are only 6 ways to choose the treatment units; a 95 % "
            "interval needs at least 40 (e.g. 4 and 4, or 2 and 5 units)") in result["orders"]["missing"]
    assert result["revenue"] == [] and result["attributed"] == []
    start = date.today() + timedelta(days=30)
    future = (await gateway.post(TESTS, json=design(regions(2), regions(2), pre_period={
        "start": (start - timedelta(days=7)).isoformat(), "end": (start - timedelta(days=1)).isoformat()},
        test_period={"start": start.isoformat(), "end": (start + timedelta(days=6)).isoformat()}))).json()
    result = (await gateway.get(f"{TESTS}/{future['id']}/result")).json()
    assert f"the test period has no complete UTC day yet (it starts on {start.isoformat()})" in result["orders"]["missing"]
    assert result["counted_through"] is None and result["days"] == {"pre_period": 0, "test_period": 0}


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"control": ["US-CA", "US-OR"]}, "body.control", "US-CA also in treatment"),
    ({"treatment": []}, "body.treatment", "at least 1"),
    ({"control": ["US"]}, "body.control.0", "US is not a region code like US-CA"),
    ({"pre_period": {"start": "2025-03-09", "end": "2025-03-03"}}, "body.pre_period.end", "is before start"),
    ({"test_period": {"start": "2025-03-09", "end": "2025-03-16"}}, "body.test_period.start", "must not overlap"),
    ({"unit": "city"}, "body.unit", "region"),
])
async def test_a_bad_design_is_a_422_naming_the_field(gateway, change, field, reason):
    response = await gateway.post(TESTS, json={**design(["US-CA", "US-WA"], ["US-OR", "US-NV"]), **change})
    assert response.status_code == 422, response.text
    [detail] = response.json()["detail"]
    assert detail["field"] == field and reason in detail["reason"], detail


async def test_an_unknown_or_another_workspaces_campaign_is_a_409_naming_it(gateway, other_gateway):
    campaign_id, _, _ = await brand_setup(other_gateway)
    for named in (campaign_id, "00000000-0000-4000-8000-000000000000"):
        response = await gateway.post(TESTS, json=design(["US-CA", "US-WA"], ["US-OR", "US-NV"], campaign_id=named))
        assert response.status_code == 409, response.text
        [detail] = response.json()["detail"]
        assert detail["field"] == "body.campaign_id" and "does not exist" in detail["reason"]
