"""An audience holdout through the gateway, on a real platform: half of a link's visitors are held
out at the redirect (sent to the control destination, each visitor always to the same group, the
group computed here from the visitor's hash), their orders never credited; the result's groups,
conversion difference (Newcombe's interval) and revenue per visitor (Welch's) are recomputed here
independently from the visits and orders the test made; bad designs are refused naming the field."""

import hashlib
import math
import statistics
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from tests.attribution.test_click_redirect import BROWSER, attribution_db, click_id, clicked  # noqa: F401 (a fixture)
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, order_named
from tests.attribution.test_reports import USD_ORDER, enrol, entries_in, link_for, new_campaign, ok, shopify_order
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

A = "/v1/attribution"
CONTROL = "https://shop.example/plain"


def wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def newcombe(x1, n1, x2, n2):
    z = statistics.NormalDist().inv_cdf(0.975)
    (l1, u1), (l2, u2) = wilson(x1, n1, z), wilson(x2, n2, z)
    p1, p2 = x1 / n1, x2 / n2
    return p1 - p2, (p1 - p2 - math.hypot(p1 - l1, u2 - p2), p1 - p2 + math.hypot(u1 - p1, p2 - l2))


async def holdout_for(gateway, campaign: str, links: list[str], **changes) -> httpx.Response:
    today = datetime.now(UTC).date()
    body = {"name": "half held out", "campaign_id": campaign, "link_ids": links, "holdout_share": "0.5",
            "control_destination": CONTROL, "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=7)).isoformat()}
    return await gateway.post(f"{A}/audience-holdouts", json={**body, **changes})


async def test_held_out_visitors_go_to_the_control_and_the_lift_is_computed_from_both_groups(
        gateway, anonymous, platform, attribution_db):  # noqa: F811
    campaign = await new_campaign(gateway, "USD")
    creator = str(uuid.uuid4())
    await enrol(gateway, campaign, creator)
    slug = await link_for(gateway, campaign, creator)
    link = next(x for x in (await ok(await gateway.get(f"{A}/links", params={"campaign_id": campaign})))["items"]
                if x["slug"] == slug)
    holdout = await ok(await holdout_for(gateway, campaign, [link["id"]]), 201)
    assert holdout["holdout_share"] == "0.5" and holdout["link_ids"] == [link["id"]]
    await ok(await gateway.post(f"{A}/campaigns/{campaign}/rules", json={"percent": "10", "holding_days": 0}), 201)

    net = uuid.uuid4().int % 200 + 20
    visits: dict[str, tuple[str, str]] = {}  # address -> (click id, where it was sent)
    async with httpx.AsyncClient(base_url=platform.s.url("attribution"), timeout=60) as direct:
        for i in range(40):
            address = f"81.3.{net}.{i + 1}"
            response = await direct.get(f"/r/{slug}", headers={"User-Agent": BROWSER, "X-Forwarded-For": address})
            assert response.status_code == 302, response.text
            visits[address] = (click_id(response), response.headers["location"])
        # The same visitors again: each to the same place as before.
        for address in list(visits)[:10]:
            again = await direct.get(f"/r/{slug}", headers={"User-Agent": BROWSER, "X-Forwarded-For": address})
            assert urlsplit(again.headers["location"])[:3] == urlsplit(visits[address][1])[:3]
    rows = {str(r["id"]): r for r in await attribution_db.fetch(
        "SELECT id, visitor_hash, holdout_group FROM attribution.clicks WHERE id = ANY($1::uuid[])",
        [clicked(c) for c, _ in visits.values()])}
    groups: dict[str, str] = {}
    for address, (click, location) in visits.items():
        row = rows[str(clicked(click))]
        draw = int.from_bytes(hashlib.sha256(f"{holdout['id']}:{row['visitor_hash']}".encode()).digest()[:4], "big") / 2**32
        expected = "control" if draw < 0.5 else "treatment"
        assert row["holdout_group"] == expected
        assert location.startswith(CONTROL + "?") == (expected == "control")
        groups[address] = expected
    treated = [a for a in visits if groups[a] == "treatment"]
    held = [a for a in visits if groups[a] == "control"]
    assert len(treated) >= 8 and len(held) >= 3, "40 visitors split far from half: the hash is not uniform"

    source = await create_shopify_source(gateway)
    buyers = treated[:6] + held[:2]
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    order_ids = {}
    for i, address in enumerate(buyers):
        order_id = new_order_id()
        data = shopify_order(USD_ORDER, order_id, None, (when + timedelta(seconds=i)).isoformat())
        data["landing_site"] = f"/products/black-tee?ll_click={visits[address][0]}"
        await deliver_shopify(anonymous, source, "orders/create", data)
        order_ids[address] = order_id
    for address in treated[:6]:
        await entries_in(gateway, order_ids[address], 1)

    async def decided(order_id):
        found = await order_named(gateway, str(order_id))
        return found if found and found["credit"] else None

    for address in held[:2]:  # a held-out visitor's order is never credited, and says why
        credit = (await eventually(lambda: decided(order_ids[address])))["credit"]
        assert credit["outcome"] == "unattributed" and "held out by an audience holdout" in credit["explanation"]
    basis = (await order_named(gateway, str(order_ids[treated[0]])))["basis_minor"]

    result = await ok(await gateway.get(f"{A}/audience-holdouts/{holdout['id']}/result"))
    n1, n2 = len(treated), len(held)
    assert (result["treatment"]["visitors"], result["treatment"]["converted"], result["treatment"]["orders"]) == (n1, 6, 6)
    assert (result["control"]["visitors"], result["control"]["converted"], result["control"]["orders"]) == (n2, 2, 2)
    assert result["treatment"]["revenue"] == {"USD": 6 * basis} and result["control"]["revenue"] == {"USD": 2 * basis}
    d, (low, high) = newcombe(6, n1, 2, n2)
    conversion = result["conversion"]
    assert conversion["status"] == "estimated" and conversion["difference"] == round(d, 6)
    assert conversion["interval"] == [round(low, 6), round(high, 6)]
    assert conversion["significant"] == (low > 0 or high < 0)
    assert conversion["incremental"] == round(d * n1, 2)
    # Revenue per visitor: Welch's interval over each visitor's revenue (0 for those who did not buy).
    a = [basis] * 6 + [0] * (n1 - 6)
    b = [basis] * 2 + [0] * (n2 - 2)
    va, vb = statistics.variance(a) / n1, statistics.variance(b) / n2
    df = (va + vb) ** 2 / (va ** 2 / (n1 - 1) + vb ** 2 / (n2 - 1))
    from scipy import stats

    half = float(stats.t.ppf(0.975, df)) * math.sqrt(va + vb)
    diff = statistics.mean(a) - statistics.mean(b)
    usd = result["revenue_per_visitor"]["USD"]
    assert usd["difference"] == round(diff, 2) and usd["interval"] == [round(diff - half, 2), round(diff + half, 2)]
    assert result["attributed"] == [{"currency": "USD", "orders": 6, "revenue": 6 * basis}]
    assert result["counted_through"] == datetime.now(UTC).date().isoformat()


async def test_a_bad_design_is_refused_naming_the_field(gateway, other_gateway):
    campaign = await new_campaign(gateway, "USD")
    creator = str(uuid.uuid4())
    await enrol(gateway, campaign, creator)
    slug = await link_for(gateway, campaign, creator)
    link = next(x for x in (await ok(await gateway.get(f"{A}/links", params={"campaign_id": campaign})))["items"]
                if x["slug"] == slug)["id"]
    other_campaign = await new_campaign(gateway, "USD")
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    for changes, status, field in (
        ({"holdout_share": "0.7"}, 422, "body.holdout_share"),
        ({"holdout_share": "half"}, 422, "body.holdout_share"),
        ({"link_ids": [link, link]}, 422, "body.link_ids"),
        ({"ends_on": yesterday}, 422, "body.ends_on"),
        ({"control_destination": "http://127.0.0.1/x"}, 422, "body.control_destination"),
        ({"campaign_id": other_campaign}, 409, "body.link_ids.0"),
        ({"campaign_id": str(uuid.uuid4())}, 409, "body.campaign_id"),
        ({"starts_on": yesterday}, 409, "body.starts_on"),
    ):
        response = await holdout_for(gateway, campaign, [link], **changes)
        assert response.status_code == status, (changes, response.text)
        assert field in [p["field"] for p in response.json()["detail"]], (changes, response.text)
    made = await ok(await holdout_for(gateway, campaign, [link]), 201)
    overlapping = await holdout_for(gateway, campaign, [link])
    assert overlapping.status_code == 409 and overlapping.json()["detail"][0]["field"] == "body.link_ids"
    assert (await other_gateway.get(f"{A}/audience-holdouts/{made['id']}")).status_code == 404
    assert (await other_gateway.get(f"{A}/audience-holdouts/{made['id']}/result")).status_code == 404
    assert (await other_gateway.post(f"{A}/audience-holdouts", json={
        "name": "theirs", "campaign_id": campaign, "link_ids": [link], "holdout_share": "0.1",
        "starts_on": datetime.now(UTC).date().isoformat(), "ends_on": datetime.now(UTC).date().isoformat()})).status_code == 409
    empty = await ok(await gateway.get(f"{A}/audience-holdouts/{made['id']}/result"))
    assert empty["conversion"]["status"] == "insufficient_data"
    assert empty["conversion"]["missing"] == ["no visitor in the treatment group yet", "no visitor in the control group yet"]
