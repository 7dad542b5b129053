"""The campaign report per creator, platform and day through the gateway, on a real platform: a
USD campaign with a hybrid deal (fee and products over Instagram and TikTok deliverables) and an
affiliate; codes and a link shared on named platforms; clicks (one a repeat); three signed
Shopify orders (by code and by click). Every figure is recomputed here from what the test made;
FX conversion uses the tenant's dated rate and lists it; a missing rate, a bad query and another
tenant are refused; a period with nothing says so; the CSV export holds the same figures."""

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
import pytest_asyncio

from services.attribution.models import split_minor
from tests.attribution.test_click_redirect import click, click_id
from tests.attribution.test_crediting_e2e import fixture
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, with_order_id
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

A = "/v1/attribution"
BASIS, COMMISSION = 5950, 595  # the fixture order's basis, and 10 % of it
FEE, PRODUCTS = 30_000, 2_000


async def ok(response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class World:
    campaign: str
    maya: str
    noah: str
    day: str


def order(order_id: int, code: str | None, clicked: str | None) -> dict:
    data = with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id)
    data["created_at"] = data["updated_at"] = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    data["discount_codes"] = [{"code": code, "amount": "10.50", "type": "percentage"}] if code else []
    data["landing_site"] = f"/products/black-tee?ll_click={clicked}" if clicked else "/products/black-tee"
    data["note_attributes"] = []
    return data


@pytest_asyncio.fixture(scope="module")
async def world(gateway, anonymous) -> World:
    campaign = (await ok(await gateway.post(f"{A}/campaigns", json={
        "name": f"lines-{uuid.uuid4().hex[:6]}", "brand": "Acme", "starts_on": "2026-09-01", "ends_on": "2027-12-31",
        "budget": 5_000_000, "currency": "USD"}), 201))["id"]
    maya, noah = str(uuid.uuid4()), str(uuid.uuid4())
    await ok(await gateway.post(f"{A}/campaigns/{campaign}/creators", json={
        "creator_id": maya, "deal_type": "hybrid", "fee": FEE, "product_value": PRODUCTS, "deliverables": [
            {"platform": "instagram", "format": "reel", "count": 2, "due_on": "2027-03-10"},
            {"platform": "tiktok", "format": "video", "count": 1, "due_on": "2027-03-10"}]}), 201)
    await ok(await gateway.post(f"{A}/campaigns/{campaign}/creators", json={"creator_id": noah, "deal_type": "affiliate"}), 201)
    await ok(await gateway.post(f"{A}/campaigns/{campaign}/rules", json={"percent": "10", "holding_days": 30}), 201)
    codes = {}
    for who, platform in ((maya, "instagram"), (noah, "tiktok")):
        codes[who] = f"LN{uuid.uuid4().hex[:8].upper()}"
        made = await ok(await gateway.post(f"{A}/codes", json={
            "campaign_id": campaign, "creator_id": who, "code": codes[who], "platform": platform}), 201)
        assert made["platform"] == platform
    link = await ok(await gateway.post(f"{A}/links", json={
        "campaign_id": campaign, "creator_id": noah, "destination": "https://shop.example/tee", "platform": "youtube"}), 201)
    assert link["platform"] == "youtube"
    first = await click(anonymous, link["slug"])
    again = await click(anonymous, link["slug"])  # the same visitor again: a repeat, not unique
    assert first.status_code == again.status_code == 302
    source = await create_shopify_source(gateway)
    for code, clicked in ((codes[maya], None), (codes[noah], None), (None, click_id(first))):
        order_id = new_order_id()
        await deliver_shopify(anonymous, source, "orders/create", order(order_id, code, clicked))
        await eventually(lambda: _entries(gateway, order_id))
    return World(campaign, maya, noah, datetime.now(UTC).date().isoformat())


async def _entries(gateway, order_id: int):
    found = (await ok(await gateway.get(f"{A}/ledger", params={"order_id": str(order_id)})))["items"]
    return found or None


async def lines_of(gateway, world: World, **params) -> dict:
    return await ok(await gateway.get(f"{A}/campaigns/{world.campaign}/report/lines", params=params))


def ratio(a, b) -> str:
    return str((Decimal(a) / Decimal(b)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN))


def only(line: dict) -> dict:
    [money] = line["money"]
    return money


async def test_by_creator_each_figure_recomputed(gateway, world):
    report = await lines_of(gateway, world, by="creator")
    assert report["notes"] == [] and report["next_cursor"] is None and report["currency"] is None
    by = {line["key"]: line for line in report["lines"]}
    assert set(by) == {world.maya, world.noah}
    maya, noah = only(by[world.maya]), only(by[world.noah])
    assert by[world.maya]["clicks"] == {"total": 0, "unique": 0, "flagged": 0}
    cost = FEE + PRODUCTS + COMMISSION
    assert (maya["orders"], maya["revenue"], maya["aov"], maya["commission_pending"], maya["net_commission"]) == (
        1, BASIS, BASIS, COMMISSION, COMMISSION)
    assert (maya["cost_fees"], maya["cost_product_value"], maya["cost_commission"], maya["cost_total"]) == (
        FEE, PRODUCTS, COMMISSION, cost)
    assert (maya["cpa"], maya["roas"], maya["roi"]) == (cost, ratio(BASIS, cost), ratio(BASIS - cost, cost))
    assert maya["conversion_rate"] is None and "no unique click" in maya["unavailable"]["conversion_rate"]
    assert by[world.noah]["clicks"] == {"total": 2, "unique": 1, "flagged": 0}
    assert (noah["orders"], noah["orders_from_clicks"], noah["revenue"], noah["cost_total"]) == (2, 1, 2 * BASIS, 2 * COMMISSION)
    assert (noah["conversion_rate"], noah["cpa"], noah["roas"], noah["roi"]) == (
        "1.0000", COMMISSION, ratio(2 * BASIS, 2 * COMMISSION), ratio(2 * BASIS - 2 * COMMISSION, 2 * COMMISSION))


async def test_by_platform_spreads_the_deal_over_its_deliverables(gateway, world):
    report = await lines_of(gateway, world, by="platform")
    by = {line["key"]: line for line in report["lines"]}
    assert set(by) == {"instagram", "tiktok", "youtube"}
    fees = split_minor(FEE, {"instagram": Fraction(2), "tiktok": Fraction(1)})
    products = split_minor(PRODUCTS, {"instagram": Fraction(2), "tiktok": Fraction(1)})
    assert (fees, products) == ({"instagram": 20_000, "tiktok": 10_000}, {"instagram": 1_333, "tiktok": 667})
    for platform in ("instagram", "tiktok"):
        m = only(by[platform])
        assert (m["orders"], m["revenue"], m["cost_fees"], m["cost_product_value"], m["cost_commission"]) == (
            1, BASIS, fees[platform], products[platform], COMMISSION)
        assert m["cost_total"] == fees[platform] + products[platform] + COMMISSION
    youtube = only(by["youtube"])
    assert by["youtube"]["clicks"] == {"total": 2, "unique": 1, "flagged": 0}
    assert (youtube["orders_from_clicks"], youtube["cost_total"], youtube["conversion_rate"]) == (1, COMMISSION, "1.0000")
    total = sum(only(line)["cost_total"] for line in report["lines"])
    campaign_cost = await ok(await gateway.get(f"{A}/campaigns/{world.campaign}/cost"))
    assert total == campaign_cost["total"]  # the platforms' costs add up to the campaign's


async def test_by_day_counts_commission_only_and_says_why(gateway, world):
    report = await lines_of(gateway, world, by="day")
    [line] = report["lines"]
    m = only(line)
    assert line["key"] == world.day and (m["orders"], m["revenue"]) == (3, 3 * BASIS)
    assert (m["cost_fees"], m["cost_product_value"], m["cost_total"]) == (0, 0, 3 * COMMISSION)
    assert "not dated" in m["unavailable"]["cost_fees"]


async def test_in_one_currency_with_the_tenants_dated_rate_and_the_rate_listed(gateway, world):
    missing = await gateway.get(f"{A}/campaigns/{world.campaign}/report/lines", params={"by": "creator", "currency": "CHF"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "query.currency"
    assert "no USD/CHF rate on or before" in missing.json()["detail"][0]["reason"]
    saved = await ok(await gateway.post(f"{A}/fx-rates", json={"rates": [
        {"on": "2026-01-01", "base": "CHF", "quote": "USD", "rate": "1.25", "source": "test"}]}))
    assert saved["saved"] == 1
    assert saved["items"] == [{"on": "2026-01-01", "base": "CHF", "quote": "USD", "rate": "1.25", "source": "test"}]
    report = await lines_of(gateway, world, by="creator", currency="CHF")
    assert report["currency"] == "CHF"
    assert report["fx_rates_used"] == [{"base": "CHF", "quote": "USD", "on": "2026-01-01", "rate": "1.25", "inverted": True}]
    maya = only({line["key"]: line for line in report["lines"]}[world.maya])
    chf = lambda minor: int((Decimal(minor) / Decimal("1.25")).quantize(Decimal(1), ROUND_HALF_EVEN))  # noqa: E731
    assert maya["currency"] == "CHF"
    assert (maya["revenue"], maya["cost_fees"], maya["cost_product_value"], maya["net_commission"]) == (
        chf(BASIS), chf(FEE), chf(PRODUCTS), chf(COMMISSION))
    listed = await ok(await gateway.get(f"{A}/fx-rates", params={"base": "CHF"}))
    assert [(r["base"], r["quote"], r["on"], r["rate"]) for r in listed["items"]] == [("CHF", "USD", "2026-01-01", "1.25")]


async def test_csv_holds_every_line_with_the_same_figures(gateway, world):
    response = await gateway.get(f"{A}/campaigns/{world.campaign}/report/lines", params={"by": "platform", "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    report = await lines_of(gateway, world, by="platform")
    assert [r["platform"] for r in rows] == [line["key"] for line in report["lines"]]
    for r, line in zip(rows, report["lines"]):
        m = only(line)
        assert int(r["cost_total"]) == m["cost_total"] and int(r["revenue"]) == m["revenue"]
        assert int(r["clicks_unique"]) == line["clicks"]["unique"] and r["roas"] == (m["roas"] or "")


async def test_pages_follow_the_cursor(gateway, world):
    first = await lines_of(gateway, world, by="platform", limit=2)
    assert len(first["lines"]) == 2 and first["next_cursor"]
    second = await lines_of(gateway, world, by="platform", limit=2, cursor=first["next_cursor"])
    assert [line["key"] for line in first["lines"] + second["lines"]] == ["instagram", "tiktok", "youtube"]
    assert second["next_cursor"] is None


async def test_a_period_with_nothing_says_so(gateway, world):
    report = await lines_of(gateway, world, by="creator", **{"from": "2020-01-01T00:00:00Z", "to": "2020-02-01T00:00:00Z"})
    # The enrolments' fees are not dated, so the creators are still there with their cost only.
    assert all(only(line)["orders"] == 0 for line in report["lines"] if line["money"])
    day = await lines_of(gateway, world, by="day", **{"from": "2020-01-01T00:00:00Z", "to": "2020-02-01T00:00:00Z"})
    assert day["lines"] == [] and day["notes"][0].startswith("insufficient data: no click, credited order")


@pytest.mark.parametrize(("params", "field"), [
    ({"by": "week"}, "query.by"), ({"by": ""}, "query.by"), ({"by": "day", "currency": "XXY"}, "query.currency"),
    ({"by": "day", "limit": 0}, "query.limit"), ({"by": "day", "cursor": "garbage"}, "query.cursor"),
    ({"by": "day", "format": "xlsx"}, "query.format"),
])
async def test_a_bad_query_is_refused_naming_the_field(gateway, world, params, field):
    response = await gateway.get(f"{A}/campaigns/{world.campaign}/report/lines", params=params)
    assert response.status_code == 422, response.text
    assert field in [p["field"] for p in response.json()["detail"]], response.text


async def test_another_tenants_campaign_is_404(other_gateway, world):
    response = await other_gateway.get(f"{A}/campaigns/{world.campaign}/report/lines", params={"by": "creator"})
    assert response.status_code == 404


@pytest.mark.parametrize("body", [
    {"rates": []},
    {"rates": [{"on": "2026-01-01", "base": "USD", "quote": "USD", "rate": "1"}]},
    {"rates": [{"on": "2026-01-01", "base": "USD", "quote": "EUR", "rate": "-1"}]},
    {"rates": [{"on": "2026-01-01", "base": "USD", "quote": "EUR", "rate": "abc"}]},
    {"rates": [{"on": "2026-01-01", "base": "USD", "quote": "EUR", "rate": "1"},
               {"on": "2026-01-01", "base": "USD", "quote": "EUR", "rate": "2"}]},
])
async def test_bad_fx_rates_are_refused_and_none_is_written(gateway, body):
    before = (await ok(await gateway.get(f"{A}/fx-rates", params={"base": "USD"})))["items"]
    response = await gateway.post(f"{A}/fx-rates", json=body)
    assert response.status_code == 422, response.text
    assert (await ok(await gateway.get(f"{A}/fx-rates", params={"base": "USD"})))["items"] == before


async def test_every_report_exports_as_csv(gateway, world):
    """The campaign report (a row per creator and currency), the creator report (per campaign) and
    the media report (totals, creators, platforms, activations) as spreadsheet files."""
    campaign = await ok(await gateway.get(f"{A}/campaigns/{world.campaign}/report"))
    exported = await gateway.get(f"{A}/campaigns/{world.campaign}/report", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = {r["creator_id"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    for line in campaign["creators"]:
        [money] = line["money"]
        row = rows[line["creator_id"]]
        assert int(row["net_commission"]) == money["net_commission"] and int(row["cost.total"]) == line["cost"]["total"]
        assert int(row["clicks.unique"]) == line["clicks"]["unique"]
    creator = await gateway.get(f"{A}/creators/{world.maya}/report", params={"format": "csv"})
    [row] = list(csv.DictReader(io.StringIO(creator.text)))
    assert row["campaign_id"] == world.campaign and int(row["revenue"]) == BASIS
    media = await gateway.get(f"{A}/campaigns/{world.campaign}/media-report", params={"format": "csv"})
    assert media.status_code == 200, media.text
    rows = list(csv.DictReader(io.StringIO(media.text)))
    assert rows[0]["line"] == "total" and {r["line"] for r in rows} >= {"total", "creator"}
    assert "rate_card.version" in rows[0] or "rate_card.name" in rows[0] or any(k.startswith("rate_card") for k in rows[0])
