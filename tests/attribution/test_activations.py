"""Content activations, their snapshots, the CSV import, the deliverables count, rate cards and
the media report, through the gateway on a real platform. The media figures are recomputed here
from the fixtures (the deals' amounts, the snapshots sent, the built-in rate card read from its
file and the tenant's own cards as sent), never read back from the service; a fresh tenant is
used so that its rate card versions start from the built-in default."""

import json
import uuid
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from runtime.admin import new_tenant
from tests.conftest import bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

A = "/v1/attribution"
DEFAULT_CARD = Path(__file__).parents[2] / "services/attribution/ratecards/default_rate_card.json"
FIGURE_OF = {"impression": "impressions", "view": "views", "like": "likes", "comment": "comments", "share": "shares", "save": "saves"}


async def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


@pytest_asyncio.fixture(scope="module")
async def client(platform):
    """A tenant of this module's own: no rate card of its own yet."""
    made = await new_tenant(platform.service_env("gateway")["DATABASE_URL"], f"activations {uuid.uuid4().hex[:6]}")
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), timeout=15, headers=bearer(made.key)) as c:
        yield c


async def campaign(client, currency: str = "USD", starts: str = "2026-01-01", ends: str = "2026-12-31") -> str:
    return (await ok(await client.post(f"{A}/campaigns", json={
        "name": f"act-{uuid.uuid4().hex[:6]}", "brand": "Acme", "starts_on": starts, "ends_on": ends,
        "budget": 10_000_000, "currency": currency}), 201))["id"]


async def enrol(client, campaign_id: str, creator: str, deliverables=(), fee: int = 150_000, products: int = 8_900) -> None:
    await ok(await client.post(f"{A}/campaigns/{campaign_id}/creators", json={
        "creator_id": creator, "deal_type": "paid", "fee": fee, "product_value": products,
        "deliverables": list(deliverables)}), 201)


async def activation(client, campaign_id: str, creator: str, platform: str = "instagram", format_: str = "reel",
                     url: str | None = None) -> dict:
    return await ok(await client.post(f"{A}/campaigns/{campaign_id}/activations", json={
        "creator_id": creator, "platform": platform, "format": format_,
        "url": url or f"https://{platform}.example/p/{uuid.uuid4().hex[:10]}", "posted_at": "2026-03-01T10:00:00Z"}), 201)


async def snapshot(client, campaign_id: str, activation_id: str, status: int = 201, **figures) -> dict:
    return await ok(await client.post(f"{A}/campaigns/{campaign_id}/activations/{activation_id}/snapshots", json=figures), status)


async def test_an_activation_of_a_creator_not_enrolled_is_a_409_naming_creator_id(client):
    campaign_id = await campaign(client)
    response = await client.post(f"{A}/campaigns/{campaign_id}/activations", json={
        "creator_id": str(uuid.uuid4()), "platform": "instagram", "format": "reel",
        "url": "https://instagram.example/p/x", "posted_at": "2026-03-01T10:00:00Z"})
    assert response.status_code == 409, response.text
    assert response.json()["detail"][0]["field"] == "body.creator_id"


@pytest.mark.parametrize(("change", "field"), [
    ({"format": "short"}, "body.format"), ({"url": "javascript:alert(1)"}, "body.url"),
    ({"url": "https://user:pw@instagram.example/p"}, "body.url"), ({"posted_at": "2026-03-01T10:00:00"}, "body.posted_at"),
    ({"platform": "myspace"}, "body.platform"),
])
async def test_a_bad_activation_is_a_422_naming_the_field(client, change, field):
    campaign_id, creator = await campaign(client), str(uuid.uuid4())
    await enrol(client, campaign_id, creator)
    body = {"creator_id": creator, "platform": "instagram", "format": "reel", "url": "https://instagram.example/p/1",
            "posted_at": "2026-03-01T10:00:00Z", **change}
    response = await client.post(f"{A}/campaigns/{campaign_id}/activations", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == field


async def test_an_activation_is_recorded_listed_corrected_and_removed(client):
    campaign_id, creator = await campaign(client), str(uuid.uuid4())
    await enrol(client, campaign_id, creator)
    made = await activation(client, campaign_id, creator, url="https://instagram.example/p/one")
    assert made["latest"] is None and made["platform"] == "instagram"
    again = await client.post(f"{A}/campaigns/{campaign_id}/activations", json={
        "creator_id": creator, "platform": "instagram", "format": "post", "url": "https://instagram.example/p/one",
        "posted_at": "2026-03-02T10:00:00Z"})
    assert again.status_code == 409 and again.json()["detail"][0]["field"] == "body.url"
    path = f"{A}/campaigns/{campaign_id}/activations/{made['id']}"
    patched = await ok(await client.patch(path, json={"format": "story"}))
    assert patched["format"] == "story"
    wrong = await client.patch(path, json={"platform": "youtube"})  # a story is not a YouTube format
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"] == "format"
    listed = await ok(await client.get(f"{A}/campaigns/{campaign_id}/activations"))
    assert [a["id"] for a in listed["items"]] == [made["id"]]
    await ok(await client.delete(path), 204)
    assert (await client.get(path)).status_code == 404
    assert (await ok(await client.get(f"{A}/campaigns/{campaign_id}/activations")))["items"] == []


async def test_snapshots_are_kept_as_history_and_never_rewritten(client):
    campaign_id, creator = await campaign(client), str(uuid.uuid4())
    await enrol(client, campaign_id, creator)
    made = await activation(client, campaign_id, creator)
    later = {"observed_at": "2026-03-05T00:00:00Z", "impressions": 2000, "likes": 90}
    await snapshot(client, campaign_id, made["id"], **later)
    await snapshot(client, campaign_id, made["id"], observed_at="2026-03-02T00:00:00Z", impressions=800)  # older: history
    same = await snapshot(client, campaign_id, made["id"], status=200, **later)
    assert same["impressions"] == 2000
    other = await client.post(f"{A}/campaigns/{campaign_id}/activations/{made['id']}/snapshots", json={**later, "likes": 91})
    assert other.status_code == 409 and other.json()["detail"][0]["field"] == "body.observed_at"
    negative = await client.post(f"{A}/campaigns/{campaign_id}/activations/{made['id']}/snapshots",
                                 json={"observed_at": "2026-03-06T00:00:00Z", "views": -1})
    assert negative.status_code == 422 and negative.json()["detail"][0]["field"] == "body.views"
    history = await ok(await client.get(f"{A}/campaigns/{campaign_id}/activations/{made['id']}/snapshots"))
    assert [(s["observed_at"][:10], s["impressions"], s["likes"]) for s in history["items"]] == [
        ("2026-03-02", 800, None), ("2026-03-05", 2000, 90)]
    read = await ok(await client.get(f"{A}/campaigns/{campaign_id}/activations/{made['id']}"))
    assert read["latest"]["observed_at"].startswith("2026-03-05") and read["latest"]["likes"] == 90


async def test_the_csv_import_keeps_good_rows_reports_bad_ones_by_line_and_a_replay_changes_nothing(client):
    campaign_id, maya, stranger = await campaign(client), str(uuid.uuid4()), str(uuid.uuid4())
    await enrol(client, campaign_id, maya)
    lines = [
        "creator_id,platform,format,url,posted_at,observed_at,impressions,views,likes,comments",
        f"{maya},instagram,reel,https://instagram.example/p/csv1,2026-03-01T10:00:00Z,2026-03-02T10:00:00Z,1000,400,50,3",
        f"{maya},instagram,reel,https://instagram.example/p/csv1,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,1500,600,70,4",
        f"{maya},tiktok,reel,https://tiktok.example/v/csv2,2026-03-01T10:00:00Z,,,,,",
        f"{stranger},tiktok,video,https://tiktok.example/v/csv3,2026-03-01T10:00:00Z,,,,,",
        f"{maya},tiktok,video,https://tiktok.example/v/csv4,2026-03-01T10:00:00Z,2026-03-02T10:00:00Z,,900,,",
    ]
    data = ("\n".join(lines) + "\n").encode()
    url = f"{A}/campaigns/{campaign_id}/activation-imports"
    first = await ok(await client.post(url, content=data, headers={"content-type": "text/csv"}))
    assert (first["rows"], first["activations_created"], first["snapshots_created"], first["unchanged"]) == (5, 2, 3, 0)
    assert [(e["line"], e["field"]) for e in first["errors"]] == [(4, "format"), (5, "creator_id")]
    listed = await ok(await client.get(f"{A}/campaigns/{campaign_id}/activations"))
    latest = {a["url"]: a["latest"] for a in listed["items"]}
    assert latest["https://instagram.example/p/csv1"]["impressions"] == 1500
    assert latest["https://tiktok.example/v/csv4"]["views"] == 900
    replay = await ok(await client.post(url, content=data, headers={"content-type": "text/csv"}))
    assert (replay["activations_created"], replay["snapshots_created"], replay["unchanged"]) == (0, 0, 3)
    assert len(replay["errors"]) == 2
    assert await ok(await client.get(f"{A}/campaigns/{campaign_id}/activations")) == listed
    wrong_type = await client.post(url, content=data, headers={"content-type": "application/json"})
    assert wrong_type.status_code == 422
    bad_header = await ok(await client.post(url, content=b"creator_id,clicks\n", headers={"content-type": "text/csv"}))
    assert (bad_header["activations_created"], bad_header["snapshots_created"]) == (0, 0)
    assert [(e["line"], e["field"]) for e in bad_header["errors"]] == [(1, "header")]


async def test_deliverables_count_required_delivered_and_overdue(client):
    campaign_id, maya, noah = await campaign(client, starts="2026-01-01", ends="2027-12-31"), str(uuid.uuid4()), str(uuid.uuid4())
    await enrol(client, campaign_id, maya, deliverables=[
        {"platform": "instagram", "format": "reel", "count": 2, "due_on": "2026-02-01"},
        {"platform": "tiktok", "format": "video", "count": 1, "due_on": "2027-12-01"}])
    await enrol(client, campaign_id, noah, deliverables=[
        {"platform": "youtube", "format": "short", "count": 1, "due_on": "2026-02-01"}])
    await activation(client, campaign_id, maya)
    await activation(client, campaign_id, maya, platform="instagram", format_="story")
    await activation(client, campaign_id, noah, platform="youtube", format_="short")
    report = await ok(await client.get(f"{A}/campaigns/{campaign_id}/deliverables"))
    by = {c["creator_id"]: c for c in report["creators"]}
    assert [(d["platform"], d["delivered"], d["overdue"]) for d in by[maya]["deliverables"]] == [
        ("instagram", 1, True), ("tiktok", 0, False)]
    assert (by[maya]["required"], by[maya]["delivered"], by[maya]["overdue"], by[maya]["unmatched_activations"]) == (3, 1, 1, 1)
    assert (by[noah]["required"], by[noah]["delivered"], by[noah]["overdue"]) == (1, 1, 0)


def expected_emv(latest: dict, platform: str, rates: dict) -> int:
    total = sum((Decimal(latest[FIGURE_OF[e]]) * Decimal(rate) for e, rate in rates.get(platform, {}).items()
                 if latest.get(FIGURE_OF[e]) is not None), Decimal(0))
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


async def test_the_media_report_recomputed_from_the_fixtures(client):
    campaign_id, maya, noah = await campaign(client, "USD"), str(uuid.uuid4()), str(uuid.uuid4())
    await enrol(client, campaign_id, maya, fee=150_000, products=8_900)
    await enrol(client, campaign_id, noah, fee=40_000, products=0)
    posts = [
        (maya, "instagram", "reel", [{"observed_at": "2026-03-02T00:00:00Z", "impressions": 5000, "views": 100},
                                     {"observed_at": "2026-03-04T00:00:00Z", "impressions": 120_003, "views": 64_001,
                                      "likes": 5_101, "comments": 211, "shares": 95, "saves": 333, "reach": 90_000}]),
        (maya, "tiktok", "video", [{"observed_at": "2026-03-03T00:00:00Z", "views": 30_000, "likes": 2_000}]),
        (noah, "youtube", "short", [{"observed_at": "2026-03-03T00:00:00Z", "impressions": 7_777, "comments": 12}]),
        (noah, "youtube", "video", []),
    ]
    latest = []
    for creator, platform, format_, snapshots in posts:
        made = await activation(client, campaign_id, creator, platform, format_)
        for figures in snapshots:
            await snapshot(client, campaign_id, made["id"], **figures)
        latest.append((creator, platform, snapshots[-1] if snapshots else None))
    default = json.loads(DEFAULT_CARD.read_text())
    report = await ok(await client.get(f"{A}/campaigns/{campaign_id}/media-report"))
    assert report["rate_card"] == {"id": "limelight-default", "version": default["version"], "currency": "USD",
                                   "source": default["source"]}

    def check(line: dict, rows: list, cost: int | None, rates: dict) -> None:
        seen = [s for _, _, s in rows if s is not None]
        impressions = sum(s.get("impressions", 0) for s in seen)
        views = sum(s.get("views", 0) for s in seen)
        engagements = sum(s.get(f, 0) for s in seen for f in ("likes", "comments", "shares", "saves"))
        assert (line["figures"]["impressions"], line["figures"]["views"], line["figures"]["engagements"]) == (
            impressions, views, engagements)
        assert line["emv"]["amount"] == sum(expected_emv(s, p, rates) for _, p, s in rows if s is not None)
        if cost is None:
            assert line["cpm"]["value"] is None and line["cpm"]["reason"]
            return
        assert line["cost"]["value"] == str(cost)
        for name, denominator, scale in (("cpm", impressions, 1000), ("cpe", engagements, 1), ("cost_per_view", views, 1)):
            if denominator:
                assert line[name] == {"value": cents(Decimal(cost) * scale / denominator), "currency": "USD", "reason": None}
            else:
                assert line[name]["value"] is None and line[name]["reason"].startswith("no ")
        emv = line["emv"]["amount"]
        assert line["emv_to_cost"]["value"] == str((Decimal(emv) / Decimal(cost)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))

    rates = default["rates"]
    check(report["totals"], latest, 150_000 + 8_900 + 40_000, rates)
    by_creator = {c["creator_id"]: c for c in report["creators"]}
    check(by_creator[maya], [r for r in latest if r[0] == maya], 158_900, rates)
    check(by_creator[noah], [r for r in latest if r[0] == noah], 40_000, rates)
    assert by_creator[noah]["figures"]["missing"] == {"impressions": 0, "views": 1, "engagements": 0}
    by_platform = {p["platform"]: p for p in report["platforms"]}
    check(by_platform["youtube"], [r for r in latest if r[1] == "youtube"], None, rates)
    assert by_platform["youtube"]["sales"] is None
    assert report["totals"]["sales"] == [] and by_creator[maya]["figures"]["with_snapshot"] == 2

    # The tenant's own card: version 1, then version 2. Each EMV states the version it used, and
    # an old version still gives its old figure.
    first_rates = {"instagram": {"impression": "0.5", "like": "10"}, "tiktok": {"view": "1.25"}}
    v1 = await ok(await client.post(f"{A}/rate-cards", json={"currency": "USD", "source": "plan A", "rates": first_rates}), 201)
    second_rates = {"instagram": {"impression": "0.7"}, "youtube": {"impression": "2", "comment": "100"}}
    v2 = await ok(await client.post(f"{A}/rate-cards", json={"currency": "USD", "source": "plan B", "rates": second_rates}), 201)
    assert (v1["version"], v2["version"]) == (1, 2) and not v1["builtin"]
    now = await ok(await client.get(f"{A}/campaigns/{campaign_id}/media-report"))
    assert (now["rate_card"]["id"], now["rate_card"]["version"]) == (v2["id"], 2)
    check(now["totals"], latest, 198_900, second_rates)
    assert "instagram.like" in now["totals"]["emv"]["unpriced"]
    old = await ok(await client.get(f"{A}/campaigns/{campaign_id}/media-report", params={"rate_card_version": 1}))
    assert (old["rate_card"]["id"], old["rate_card"]["version"], old["rate_card"]["source"]) == (v1["id"], 1, "plan A")
    check(old["totals"], latest, 198_900, first_rates)
    listed = await ok(await client.get(f"{A}/rate-cards"))
    assert [(c["version"], c["rates"]) for c in listed["items"]] == [(2, second_rates), (1, first_rates)]
    missing = await client.get(f"{A}/campaigns/{campaign_id}/media-report", params={"rate_card_version": 9})
    assert missing.status_code == 404


async def test_emv_and_cost_in_different_currencies_are_never_divided(client):
    campaign_id, maya = await campaign(client, "EUR"), str(uuid.uuid4())
    await enrol(client, campaign_id, maya, fee=10_000, products=0)
    made = await activation(client, campaign_id, maya)
    await snapshot(client, campaign_id, made["id"], observed_at="2026-03-02T00:00:00Z", impressions=4_000)
    report = await ok(await client.get(f"{A}/campaigns/{campaign_id}/media-report"))
    assert report["currency"] == "EUR" and report["totals"]["emv"]["currency"] == report["rate_card"]["currency"] == "USD"
    assert report["totals"]["emv_to_cost"]["value"] is None
    assert "different currencies" in report["totals"]["emv_to_cost"]["reason"]
    assert report["totals"]["cpm"] == {"value": cents(Decimal(10_000) * 1000 / 4_000), "currency": "EUR", "reason": None}


async def test_a_media_report_without_activations_says_why_each_ratio_is_missing(client):
    campaign_id = await campaign(client)
    report = await ok(await client.get(f"{A}/campaigns/{campaign_id}/media-report"))
    for name in ("cpm", "cpe", "cost_per_view"):
        assert report["totals"][name]["value"] is None and report["totals"][name]["reason"].startswith("no ")
    assert report["totals"]["emv_to_cost"] == {"value": None, "currency": None, "reason": "the cost is 0"}


@pytest.mark.parametrize("body", [
    {"currency": "USD", "source": "s", "rates": {"instagram": {"like": 5}}},
    {"currency": "USD", "source": "s", "rates": {"instagram": {"click": "5"}}},
    {"currency": "USD", "source": "s", "rates": {}},
    {"currency": "XXX", "source": "s", "rates": {"instagram": {"like": "5"}}},
])
async def test_a_bad_rate_card_is_a_422(client, body):
    response = await client.post(f"{A}/rate-cards", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"].startswith("body.")


async def test_another_tenant_sees_no_activation_rate_card_or_media_report(client, other_gateway):
    campaign_id, maya = await campaign(client), str(uuid.uuid4())
    await enrol(client, campaign_id, maya)
    made = await activation(client, campaign_id, maya)
    for path in (f"/campaigns/{campaign_id}/activations/{made['id']}", f"/campaigns/{campaign_id}/activations",
                 f"/campaigns/{campaign_id}/deliverables", f"/campaigns/{campaign_id}/media-report"):
        assert (await other_gateway.get(f"{A}{path}")).status_code == 404, path
    theirs = await ok(await other_gateway.get(f"{A}/rate-cards"))
    mine = await ok(await client.get(f"{A}/rate-cards"))
    assert not {c["id"] for c in theirs["items"]} & {c["id"] for c in mine["items"]}
