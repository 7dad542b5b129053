"""The campaign and creator reports through the gateway, on a real platform: a USD campaign with
two creators (one's commission approved and paid, the other's on a long hold), their codes and
links, clicks (a repeat and a crawler among them), signed Shopify orders, a refund and a
cancellation, a third creator unenrolled after a click, and the first creator's EUR campaign.
Every figure is checked against what the test computes from the rows it made (the ledger's
entries and the orders, read one by one) and against the fixture's known amounts; another
tenant gets 404; `from`/`to` limit orders by placed_at and clicks by clicked_at; currencies are
never added together; each report query is served by an index."""

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import with_loader_criteria

from services.attribution.reports import repository
from shared import tenancy
from shared.db import ReadStatement
from shared.tenancy import TenantOwned
from tests.attribution.test_click_redirect import BROWSER, click
from tests.attribution.test_crediting_e2e import fixture
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, order_named, with_order_id
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

A = "/v1/attribution"
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
USD_ORDER = "orders-create-usd-code-and-click.json"
EUR_ORDER = "orders-create-eur-taxes-included.json"
MONEY_FIELDS = ("orders", "cancelled_orders", "revenue", "revenue_before_refunds", "commission_pending",
                "commission_approved", "commission_paid", "clawbacks", "net_commission")


async def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


async def new_campaign(gateway, currency: str) -> str:
    return (await ok(await gateway.post(f"{A}/campaigns", json={
        "name": f"report-{uuid.uuid4().hex[:6]}", "brand": "Acme", "starts_on": "2026-09-01", "ends_on": "2027-12-31",
        "budget": 5_000_000, "currency": currency}), 201))["id"]


async def enrol(gateway, campaign_id: str, creator_id: str, **deal) -> None:
    await ok(await gateway.post(f"{A}/campaigns/{campaign_id}/creators",
                                json={"creator_id": creator_id, "deal_type": "affiliate", **deal}), 201)


async def code_for(gateway, campaign_id: str, creator_id: str) -> str:
    code = f"RPT{uuid.uuid4().hex[:8].upper()}"
    await ok(await gateway.post(f"{A}/codes", json={"campaign_id": campaign_id, "creator_id": creator_id, "code": code}), 201)
    return code


async def made_link(gateway, campaign_id: str, creator_id: str) -> dict:
    return await ok(await gateway.post(f"{A}/links", json={
        "campaign_id": campaign_id, "creator_id": creator_id, "destination": "https://shop.example/products/tee"}), 201)


async def link_for(gateway, campaign_id: str, creator_id: str) -> str:
    return (await made_link(gateway, campaign_id, creator_id))["slug"]


def at(world: "World", seconds: float) -> str:
    return (world.base + timedelta(seconds=seconds)).isoformat()


def shopify_order(name: str, order_id: int, code: str | None, placed_at: str) -> dict:
    data = with_order_id(fixture(name), order_id)
    data["created_at"] = data["updated_at"] = data["processed_at"] = placed_at
    data["discount_codes"] = [{"code": code, "amount": data["discount_codes"][0]["amount"], "type": "percentage"}] if code else []
    data["landing_site"], data["note_attributes"] = "/products/black-tee", []
    return data


async def ledger_of(gateway, **filters) -> list[dict]:
    return (await ok(await gateway.get(f"{A}/ledger", params={"limit": 200, **filters})))["items"]


@dataclass
class World:
    """What the test made, and the rows it reads back to compute the expected figures."""

    usd: str
    eur: str
    maya: str  # hybrid deal in the USD campaign (fee, products), commission approved then paid; also in the EUR one
    noah: str  # gifted deal in the USD campaign, commission on a 365-day hold; one order refunded, one cancelled
    ivy: str  # enrolled, clicked, unenrolled: in the report with clicks only
    clicks_started: datetime
    base: datetime = None  # after every click and rule; order n is placed at base + n seconds
    orders: dict[str, tuple[str, str]] = field(default_factory=dict)  # partner order id -> (campaign, creator)


async def deliver(gateway, anonymous, source, world: World, campaign: str, creator: str, code: str, placed_at: str,
                  name: str = USD_ORDER) -> tuple[int, dict]:
    order_id = new_order_id()
    data = shopify_order(name, order_id, code, at(world, placed_at))
    await deliver_shopify(anonymous, source, "orders/create", data)
    await eventually(lambda: ledger_of(gateway, order_id=str(order_id)))
    world.orders[str(order_id)] = (campaign, creator)
    return order_id, data


async def entries_in(gateway, order_id: int, count: int, state: str | None = None) -> list[dict]:
    async def settled():
        found = await ledger_of(gateway, order_id=str(order_id))
        enough = len(found) == count and (state is None or all(e["state"] == state for e in found))
        return found if enough else None

    return await eventually(settled, timeout=60)


@pytest_asyncio.fixture(scope="module")
async def world(gateway, anonymous) -> World:
    usd, eur = await new_campaign(gateway, "USD"), await new_campaign(gateway, "EUR")
    maya, noah, ivy = (str(uuid.uuid4()) for _ in range(3))
    await enrol(gateway, usd, maya, deal_type="hybrid", fee=50_000, product_value=2_500)
    await enrol(gateway, usd, noah, deal_type="gifted", fee=0, product_value=4_000)
    await enrol(gateway, usd, ivy)
    await enrol(gateway, eur, maya)
    maya_usd, noah_usd, maya_eur = await code_for(gateway, usd, maya), await code_for(gateway, usd, noah), await code_for(gateway, eur, maya)
    world = World(usd=usd, eur=eur, maya=maya, noah=noah, ivy=ivy, clicks_started=datetime.now(UTC) - timedelta(seconds=1))

    # Clicks: Maya's link twice from one browser (the second a repeat) and once by a crawler;
    # Noah's and Ivy's once each (the same visitor on another link is unique there).
    maya_link, noah_link, ivy_link = [await made_link(gateway, usd, c) for c in (maya, noah, ivy)]
    for made, agent in ((maya_link, BROWSER), (maya_link, BROWSER), (maya_link, CRAWLER), (noah_link, BROWSER), (ivy_link, BROWSER)):
        assert (await click(anonymous, made["slug"], **{"User-Agent": agent})).status_code == 302
    # A creator with a live link is not unenrolled (its clicks would credit orders): revoked first.
    await ok(await gateway.post(f"{A}/links/{ivy_link['id']}/revoke"), 200)
    await ok(await gateway.delete(f"{A}/campaigns/{usd}/creators/{ivy}"), 204)

    # Rules take effect now (never in the past), so the orders are placed from a second after them.
    await ok(await gateway.post(f"{A}/campaigns/{usd}/rules", json={"percent": "10", "holding_days": 0}), 201)
    await ok(await gateway.post(f"{A}/campaigns/{usd}/creators/{noah}/rules", json={"percent": "10", "holding_days": 365}), 201)
    await ok(await gateway.post(f"{A}/campaigns/{eur}/rules", json={"percent": "10", "holding_days": 0}), 201)
    world.base = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)

    source = await create_shopify_source(gateway)
    # Maya's first order: approved at once (no hold), then paid out.
    first, _ = await deliver(gateway, anonymous, source, world, usd, maya, maya_usd, 2)
    await entries_in(gateway, first, 1, "approved")
    await ok(await gateway.post(f"{A}/payouts", json={"creator_id": maya, "currency": "USD"}), 201)
    # Her second: approved, not paid.
    second, _ = await deliver(gateway, anonymous, source, world, usd, maya, maya_usd, 4)
    await entries_in(gateway, second, 1, "approved")
    # Noah's first: one tee refunded; his second: cancelled. Both held (pending).
    refunded, _ = await deliver(gateway, anonymous, source, world, usd, noah, noah_usd, 3)
    refund = with_order_id(fixture("refunds-create-usd-partial.json"), refunded)
    refund["id"] = new_order_id()
    await deliver_shopify(anonymous, source, "refunds/create", refund)
    await entries_in(gateway, refunded, 2)
    cancelled, data = await deliver(gateway, anonymous, source, world, usd, noah, noah_usd, 5)
    await deliver_shopify(anonymous, source, "orders/cancelled", dict(
        data, cancelled_at=at(world, 6), updated_at=at(world, 6), financial_status="voided"))
    await entries_in(gateway, cancelled, 2)
    # An order nobody earned: in no report.
    await deliver_shopify(anonymous, source, "orders/create", shopify_order(USD_ORDER, new_order_id(), None, at(world, 3)))
    # Maya's EUR order, in the other campaign.
    euro, _ = await deliver(gateway, anonymous, source, world, eur, maya, maya_eur, 3, EUR_ORDER)
    await entries_in(gateway, euro, 1, "approved")
    return world


async def expected_money(gateway, world: World, campaign: str, creator: str, start: str | None = None,
                         end: str | None = None) -> list[dict]:
    """The Money rows computed here from the orders and the ledger's entries, read one by one."""
    rows: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(MONEY_FIELDS, 0))
    for order_id, (in_campaign, by) in world.orders.items():
        if (in_campaign, by) != (campaign, creator):
            continue
        order = await order_named(gateway, order_id)
        placed = order["placed_at"].replace("Z", "+00:00")
        if (start and datetime.fromisoformat(placed) < datetime.fromisoformat(start)) or (
                end and datetime.fromisoformat(placed) >= datetime.fromisoformat(end)):
            continue
        row = rows[order["currency"]]
        row["orders"] += 1
        row["cancelled_orders"] += order["state"] == "cancelled"
        row["revenue"] += order["basis_minor"]
        row["revenue_before_refunds"] += order["basis_before_refunds_minor"]
        for entry in await ledger_of(gateway, order_id=order_id):
            money = rows[entry["currency"]]
            if entry["kind"] == "commission":
                money[f"commission_{entry['state']}"] += entry["amount"]
            else:
                money["clawbacks"] += entry["amount"]
            money["net_commission"] += entry["amount"]
    return [{"currency": currency, **figures} for currency, figures in sorted(rows.items())]


def line(report: dict, key: str, value: str) -> dict:
    [found] = [item for item in report["creators" if key == "creator_id" else "campaigns"] if item[key] == value]
    return found


async def test_the_campaign_report_adds_up_each_creators_clicks_orders_and_commission(gateway, world):
    report = await ok(await gateway.get(f"{A}/campaigns/{world.usd}/report"))
    assert report["currency"] == "USD" and report["from"] is None and report["to"] is None
    # Clicks: Maya 2 browser clicks (one a repeat) + a crawler; Noah 1; Ivy 1 before leaving.
    assert report["clicks"] == {"total": 5, "unique": 3, "flagged": 1}
    maya, noah, ivy = (line(report, "creator_id", c) for c in (world.maya, world.noah, world.ivy))
    assert [c["creator_id"] for c in report["creators"]] == sorted([world.maya, world.noah, world.ivy])
    assert (maya["clicks"], noah["clicks"], ivy["clicks"]) == (
        {"total": 3, "unique": 1, "flagged": 1}, {"total": 1, "unique": 1, "flagged": 0}, {"total": 1, "unique": 1, "flagged": 0})
    assert (maya["enrolled"], noah["enrolled"], ivy["enrolled"]) == (True, True, False)
    # Money: each creator's rows as computed from the orders and entries themselves ...
    assert maya["money"] == await expected_money(gateway, world, world.usd, world.maya)
    assert noah["money"] == await expected_money(gateway, world, world.usd, world.noah)
    assert ivy["money"] == []
    # ... and as the fixture's amounts give them: 10 % of a 59.50 USD basis is 5.95; the refund
    # brings one basis to 38.25 and claws back 2.13; the cancellation claws back all 5.95.
    assert maya["money"] == [{"currency": "USD", "orders": 2, "cancelled_orders": 0, "revenue": 11_900,
                              "revenue_before_refunds": 11_900, "commission_pending": 0, "commission_approved": 595,
                              "commission_paid": 595, "clawbacks": 0, "net_commission": 1_190}]
    assert noah["money"] == [{"currency": "USD", "orders": 2, "cancelled_orders": 1, "revenue": 3_825,
                              "revenue_before_refunds": 11_900, "commission_pending": 1_190, "commission_approved": 0,
                              "commission_paid": 0, "clawbacks": -808, "net_commission": 382}]
    assert report["money"] == [{"currency": "USD", **{k: maya["money"][0][k] + noah["money"][0][k] for k in MONEY_FIELDS}}]


async def test_the_report_cost_is_the_campaign_cost_and_its_creators_add_up_to_it(gateway, world):
    report = await ok(await gateway.get(f"{A}/campaigns/{world.usd}/report"))
    cost = await ok(await gateway.get(f"{A}/campaigns/{world.usd}/cost"))
    assert report["cost"] == cost
    # Fees 500.00 (Maya) + products 25.00 (Maya) and 40.00 (Noah) + net commission 11.90 + 3.82.
    assert (cost["fees"], cost["product_value"], cost["commission"], cost["total"]) == (50_000, 6_500, 1_572, 58_072)
    creators = {c["creator_id"]: c["cost"] for c in report["creators"]}
    assert creators[world.maya] == {"currency": "USD", "fees": 50_000, "product_value": 2_500, "commission": 1_190, "total": 53_690}
    assert creators[world.noah] == {"currency": "USD", "fees": 0, "product_value": 4_000, "commission": 382, "total": 4_382}
    assert creators[world.ivy] == {"currency": "USD", "fees": 0, "product_value": 0, "commission": 0, "total": 0}
    for name in ("fees", "product_value", "commission", "total"):
        assert sum(c[name] for c in creators.values()) == cost[name]


async def test_the_creator_report_keeps_each_currency_apart(gateway, world):
    report = await ok(await gateway.get(f"{A}/creators/{world.maya}/report"))
    assert [c["campaign_id"] for c in report["campaigns"]] == sorted([world.usd, world.eur])
    usd, eur = line(report, "campaign_id", world.usd), line(report, "campaign_id", world.eur)
    assert (usd["currency"], eur["currency"], usd["enrolled"], eur["enrolled"]) == ("USD", "EUR", True, True)
    assert usd["money"] == await expected_money(gateway, world, world.usd, world.maya)
    assert eur["money"] == await expected_money(gateway, world, world.eur, world.maya)
    [euro] = eur["money"]
    assert euro["currency"] == "EUR" and euro["orders"] == 1 and euro["revenue"] > 0 and euro["commission_approved"] > 0
    assert (usd["clicks"], eur["clicks"]) == ({"total": 3, "unique": 1, "flagged": 1}, {"total": 0, "unique": 0, "flagged": 0})
    # The totals: one row per currency, never a sum across them.
    assert report["money"] == [euro, usd["money"][0]]
    assert report["clicks"] == {"total": 3, "unique": 1, "flagged": 1}
    assert report["cost"] == [
        {"currency": "EUR", "fees": 0, "product_value": 0, "commission": euro["net_commission"], "total": euro["net_commission"]},
        {"currency": "USD", "fees": 50_000, "product_value": 2_500, "commission": 1_190, "total": 53_690},
    ]
    assert usd["cost"] == report["cost"][1] and eur["cost"] == report["cost"][0]


async def test_an_unenrolled_creator_still_has_a_report_of_what_they_did(gateway, world):
    report = await ok(await gateway.get(f"{A}/creators/{world.ivy}/report"))
    [only] = report["campaigns"]
    assert (only["campaign_id"], only["enrolled"], only["clicks"], only["money"]) == (
        world.usd, False, {"total": 1, "unique": 1, "flagged": 0}, [])


async def test_from_and_to_limit_orders_by_placed_at_and_clicks_by_clicked_at(gateway, world):
    start, end = at(world, 2.5), at(world, 4.5)
    report = await ok(await gateway.get(f"{A}/campaigns/{world.usd}/report", params={"from": start, "to": end}))
    assert (datetime.fromisoformat(report["from"]), datetime.fromisoformat(report["to"])) == (
        datetime.fromisoformat(start), datetime.fromisoformat(end))
    # Orders 3 and 4: Noah's refunded one and Maya's second (approved, not paid); the clicks came before.
    assert report["clicks"] == {"total": 0, "unique": 0, "flagged": 0}
    maya, noah = line(report, "creator_id", world.maya), line(report, "creator_id", world.noah)
    assert maya["money"] == await expected_money(gateway, world, world.usd, world.maya, start, end)
    assert noah["money"] == await expected_money(gateway, world, world.usd, world.noah, start, end)
    assert (maya["money"][0]["orders"], maya["money"][0]["commission_approved"], maya["money"][0]["commission_paid"]) == (1, 595, 0)
    assert (noah["money"][0]["orders"], noah["money"][0]["revenue"], noah["money"][0]["net_commission"]) == (1, 3_825, 382)
    assert report["money"] == [{"currency": "USD", **{k: maya["money"][0][k] + noah["money"][0][k] for k in MONEY_FIELDS}}]
    # The cost is the campaign's so far, whatever the period.
    assert report["cost"] == await ok(await gateway.get(f"{A}/campaigns/{world.usd}/cost"))

    clicks_only = await ok(await gateway.get(f"{A}/campaigns/{world.usd}/report", params={"to": at(world, 0)}))
    assert clicks_only["clicks"] == {"total": 5, "unique": 3, "flagged": 1} and clicks_only["money"] == []
    orders_only = await ok(await gateway.get(f"{A}/creators/{world.maya}/report", params={"from": at(world, 0)}))
    assert orders_only["clicks"] == {"total": 0, "unique": 0, "flagged": 0}
    assert [(m["currency"], m["orders"]) for m in orders_only["money"]] == [("EUR", 1), ("USD", 2)]
    in_period = await ok(await gateway.get(f"{A}/creators/{world.maya}/report", params={"from": start, "to": end}))
    assert [c["money"] for c in in_period["campaigns"]] == [
        await expected_money(gateway, world, c, world.maya, start, end) for c in sorted([world.usd, world.eur])]


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-10-31T00:00:00Z", "to": "2026-10-01T00:00:00Z"}, "query.to"),
    ({"from": "2026-10-01T00:00:00Z", "to": "2026-10-01T00:00:00Z"}, "query.to"),
    ({"from": "2026-10-01"}, "query.from"),
    ({"to": "yesterday"}, "query.to"),
    ({"to": "1700000000"}, "query.to"),
    ({"from": "2026-10-01T00:00:00Z", "sort": "revenue"}, "query.sort"),
    ({"from": "0001-01-01T00:00:00+05:00"}, "query.from"),
])
async def test_a_period_that_is_not_one_is_refused_naming_the_field(gateway, world, params, field):
    for path in (f"{A}/campaigns/{world.usd}/report", f"{A}/creators/{world.maya}/report"):
        response = await gateway.get(path, params=params)
        assert response.status_code == 422, response.text
        assert field in [d["field"] for d in response.json()["detail"]], response.text


async def test_another_tenant_gets_404_for_both_reports(gateway, other_gateway, world):
    for path in (f"{A}/campaigns/{world.usd}/report", f"{A}/creators/{world.maya}/report"):
        assert (await gateway.get(path)).status_code == 200
        theirs = await other_gateway.get(path)
        assert theirs.status_code == 404, theirs.text
    unknown = await gateway.get(f"{A}/creators/{uuid.uuid4()}/report")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    assert (await gateway.get(f"{A}/campaigns/{uuid.uuid4()}/report")).status_code == 404


# --- the plans ---------------------------------------------------------------------------------

# Each statement, and the index (or either of those) that must find the campaign's (or the
# creator's) rows: its leading columns are the tenant and that id, so the read is bounded by them.
STATEMENTS = {
    "campaign clicks": (repository.CAMPAIGN_CLICKS, "ix_attribution_clicks_tenant_id_campaign_id_clicked_at"),
    "campaign orders": (repository.CAMPAIGN_ORDERS, "ix_attribution_order_credits_tenant_id_campaign_id_creator_id"),
    "campaign totals": (repository.CAMPAIGN_TOTALS, "pk_report_totals"),
    "campaign ledger in a period": (repository.CAMPAIGN_LEDGER_PLACED, "ix_attribution_order_credits_tenant_id_campaign_id_creator_id"),
    "campaign enrolments": (repository.CAMPAIGN_ENROLMENTS, "ix_attribution_enrolments_campaign_id_created_at_id",
                            "uq_enrolments_campaign_id_creator_id"),
    "creator clicks": (repository.CREATOR_CLICKS, "ix_attribution_clicks_tenant_id_creator_id_clicked_at"),
    "creator orders": (repository.CREATOR_ORDERS, "ix_attribution_order_credits_tenant_id_creator_id_campaign_id"),
    "creator totals": (repository.CREATOR_TOTALS, "ix_attribution_report_totals_tenant_id_creator_id"),
    "creator ledger in a period": (repository.CREATOR_LEDGER_PLACED, "ix_attribution_ledger_entries_creator_currency_state",
                                   "ix_attribution_ledger_entries_creator_id_currency"),
    "creator enrolments": (repository.CREATOR_ENROLMENTS, "ix_attribution_enrolments_tenant_id_creator_id"),
}
TABLES = ("clicks", "order_credits", "orders", "ledger_entries", "enrolments", "report_totals", "report_deltas")


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


# The tenant's other business, written inside the EXPLAIN's transaction and rolled back with it:
# other campaigns' and creators' clicks, orders, credits and ledger entries, so the planner sees
# tables that have grown past what one campaign or creator holds (statistics by ANALYZE, which
# runs inside a transaction).
GROWTH = """
insert into attribution.orders (id, tenant_id, source, source_id, order_id, placed_at, currency, lines, taxes_included,
    codes, click_ids, test, notes, state, basis_minor, basis_before_refunds_minor, basis_explanation, last_delivery_id)
select gen_random_uuid(), $1, 'generic', gen_random_uuid(), 'grown-' || n, now() - n * interval '1 minute', 'USD', '[]',
    false, '{}', '{}', false, '{}', 'open', 100, 100, '', ''
from generate_series(1, 5000) n;
insert into attribution.order_credits (id, tenant_id, order_ref, outcome, creator_id, campaign_id, explanation)
select gen_random_uuid(), $1, id, 'credited', gen_random_uuid(), gen_random_uuid(), ''
from attribution.orders where order_id like 'grown-%';
insert into attribution.ledger_entries (id, tenant_id, kind, creator_id, campaign_id, currency, amount, source, order_id,
    line_key, reason, hold_until)
select gen_random_uuid(), $1, 'commission', gen_random_uuid(), gen_random_uuid(), 'USD', 10, 'generic:' || source_id,
    order_id, 'order', '', now()
from attribution.orders where order_id like 'grown-%';
insert into attribution.clicks (id, tenant_id, link_id, campaign_id, creator_id, clicked_at, method, flagged, is_unique)
select gen_random_uuid(), $1, $2, gen_random_uuid(), gen_random_uuid(), now() - n * interval '1 second', 'GET', false, true
from generate_series(1, 20000) n;
"""


@pytest.mark.parametrize("name", list(STATEMENTS))
async def test_each_report_query_is_served_by_an_index(service_dsn, tenant, world, name):
    """Every table the statement reads is reached through an index condition, the campaign's (or
    creator's) rows through the index that leads with it, the others by the join's keys. Sequential and
    bitmap scans are switched off, as in tests/shared/test_indexes.py, so a statement no index
    could serve shows a Seq Scan or an index read with no condition, and fails."""
    statement, *indexes = STATEMENTS[name]
    # The whole time line, as a report without from/to asks: the widest range the statements read.
    params = {"campaign_id": uuid.UUID(world.usd), "creator_id": uuid.UUID(world.maya), "start": repository.EVER_START,
              "end": repository.EVER_END, "first": repository.FIRST_DAY, "last": repository.LAST_DAY,
              tenancy.TENANT_PARAM: tenant.tenant_id}
    if isinstance(statement, ReadStatement):
        sql, values = statement.sql_and_values(params)
    else:  # read through the ORM (a union in a subquery): its tenant filter, as a Session adds it
        tenant_id = tenant.tenant_id
        compiled = statement.options(with_loader_criteria(
            TenantOwned, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)).compile(
            dialect=postgresql.asyncpg.dialect())
        bound = compiled.construct_params(params)
        sql, values = compiled.string, [bound[name] for name in compiled.positiontup]
    connection = await asyncpg.connect(service_dsn("attribution"))
    transaction = connection.transaction()
    await transaction.start()
    try:
        link_id = await connection.fetchval("select id from attribution.links where campaign_id = $1 limit 1", uuid.UUID(world.usd))
        for part in GROWTH.split(";")[:-1]:
            await connection.execute(part, *((tenant.tenant_id, link_id) if "$2" in part else (tenant.tenant_id,)))
        for table in TABLES:
            await connection.execute(f"analyze attribution.{table}")
        # Sequential and bitmap scans off, and the joins that read a whole side (merge, hash, a
        # materialized inner side): the question is whether index lookups can serve the statement.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_mergejoin", "enable_hashjoin", "enable_material"):
            await connection.execute(f"set local {setting} = off")
        plan = json.loads(await connection.fetchval(f"explain (format json) {sql}", *values))
    finally:
        await transaction.rollback()
        await connection.close()
    nodes = list(_nodes(plan[0]["Plan"]))
    scans = [n for n in nodes if "Relation Name" in n]
    shown = [(n["Node Type"], n.get("Index Name"), n.get("Index Cond")) for n in scans]
    assert scans and all(n["Node Type"] in ("Index Scan", "Index Only Scan") for n in scans), shown
    assert all(n.get("Index Cond") for n in scans), f"{name}: an index read whole: {shown}"
    assert set(indexes) & {n.get("Index Name") for n in scans}, f"{name}: not read through {indexes}: {shown}"
