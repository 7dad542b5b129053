"""The fraud rules through the gateway, with real Kafka and PostgreSQL: a signed Shopify order by the
creator's own customer is held as a self-referral, approved by an operator and then paid as any
other; an order placed seconds after its click is held as click injection, rejected, and the
ledger shows the reversal appended beside the commission; settings are validated and per tenant."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from tests.attribution.test_click_redirect import click, click_id, clicked as click_row
from tests.attribution.test_crediting_e2e import entries, fixture, placed_now
from tests.attribution.test_links import make
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, order_named, with_order_id
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

A = "/v1/attribution"
ORDER = "orders-create-usd-code-and-click.json"


@pytest_asyncio.fixture(scope="session")
async def attribution_db(service_dsn):
    pool = await asyncpg.create_pool(service_dsn("attribution"), min_size=1, max_size=2)
    yield pool
    await pool.close()


async def setup(gateway) -> tuple[str, str, str, datetime]:
    """A USD campaign, a creator on it, a 10 % rule with no holding period, the creator's code; and
    when the rule took effect."""
    campaign = await gateway.post(f"{A}/campaigns", json={
        "name": f"fraud-{uuid.uuid4().hex[:6]}", "brand": "Acme", "starts_on": "2026-11-01", "ends_on": "2027-12-31",
        "budget": 1_000_000, "currency": "USD"})
    assert campaign.status_code == 201, campaign.text
    campaign_id, creator_id = campaign.json()["id"], str(uuid.uuid4())
    enrolled = await gateway.post(f"{A}/campaigns/{campaign_id}/creators",
                                  json={"creator_id": creator_id, "deal_type": "affiliate", "fee": 0, "product_value": 0})
    assert enrolled.status_code == 201, enrolled.text
    rule = await gateway.post(f"{A}/campaigns/{campaign_id}/rules", json={"percent": "10", "holding_days": 0})
    assert rule.status_code == 201, rule.text
    code = f"FR{uuid.uuid4().hex[:8].upper()}"
    made = await gateway.post(f"{A}/codes", json={"campaign_id": campaign_id, "creator_id": creator_id, "code": code})
    assert made.status_code == 201, made.text
    return campaign_id, creator_id, code, datetime.fromisoformat(rule.json()["effective_from"])


async def review_of(gateway, order_id: str) -> dict | None:
    listed = await gateway.get(f"{A}/fraud/reviews", params={"status": "held", "limit": 200})
    assert listed.status_code == 200, listed.text
    return next((r for r in listed.json()["items"] if r["order_id"] == order_id), None)


async def pay(gateway, creator_id: str):
    return await gateway.post(f"{A}/payouts", json={"creator_id": creator_id, "currency": "USD"},
                              headers={"Idempotency-Key": str(uuid.uuid4())})


async def test_a_self_referral_is_held_then_approved_by_an_operator_and_paid_as_usual(gateway, anonymous):
    _, creator_id, code, effective = await setup(gateway)
    email = f"creator-{uuid.uuid4().hex[:8]}@example.com"
    registered = await gateway.post(f"{A}/creators/{creator_id}/customer-keys", json={"email": email.upper()})
    assert registered.status_code == 201, registered.text
    assert registered.json()["created"] is True and email not in registered.text
    again = await gateway.post(f"{A}/creators/{creator_id}/customer-keys", json={"email": email})
    assert again.json() == {**registered.json(), "created": False}  # normalised as orders are: the same key

    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture(ORDER), order_id), code)
    order["email"] = order["customer"]["email"] = email
    # Placed once the rule took effect, and in the past: its hold of 0 days is over.
    order["created_at"] = order["updated_at"] = (effective + timedelta(seconds=1)).isoformat()
    await deliver_shopify(anonymous, source, "orders/create", order)

    review = await eventually(lambda: review_of(gateway, str(order_id)))
    assert [f["rule"] for f in review["findings"]] == ["self_referral"] and review["creator_id"] == creator_id
    # Its 0-day hold ends at the order's time, a second after the rule took effect: let the clock
    # pass it (a quiet machine gets here sooner), so that only the review holds the commission.
    placed = effective + timedelta(seconds=1)
    await asyncio.sleep(max(0.0, (placed - datetime.now(UTC)).total_seconds()) + 0.2)
    [commission] = await entries(gateway, str(order_id))
    assert (commission["kind"], commission["state"]) == ("commission", "pending")
    # Held: its hold period is over (0 days) yet a payout neither approves nor pays it.
    refused = await pay(gateway, creator_id)
    assert refused.status_code == 409, refused.text

    decided = await gateway.post(f"{A}/fraud/reviews/{review['id']}/decision",
                                 json={"decision": "approve", "note": "the creator bought for a giveaway, agreed"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved" and decided.json()["decided_by"]
    assert decided.json()["note"] == "the creator bought for a giveaway, agreed"
    same = await gateway.post(f"{A}/fraud/reviews/{review['id']}/decision", json={"decision": "approve", "note": "again"})
    assert same.status_code == 200 and same.json()["note"] == "the creator bought for a giveaway, agreed"
    other = await gateway.post(f"{A}/fraud/reviews/{review['id']}/decision", json={"decision": "reject", "note": "no"})
    assert other.status_code == 409 and "already decided" in other.text

    paid = await pay(gateway, creator_id)
    assert paid.status_code == 201, paid.text
    assert paid.json()["amount"] == commission["amount"]
    [after] = await entries(gateway, str(order_id))
    assert after["state"] == "paid" and after["id"] == commission["id"]


async def _two_conversions(platform, order_ref: str):
    from tests.attribution.test_crediting_e2e import events_for

    events = await events_for(platform, "attribution.conversion.v1", order_ref)
    return events if len(events) >= 2 else None


async def test_an_injected_click_is_held_rejected_and_reversed_by_an_appended_clawback(gateway, anonymous, attribution_db,
                                                                                     platform):
    campaign_id, creator_id, _, _ = await setup(gateway)
    link = await make(gateway, campaign_id, creator_id)
    clicked = await click(anonymous, link["slug"])
    assert clicked.status_code == 302, clicked.text
    the_click = click_id(clicked)
    clicked_at = await attribution_db.fetchval("SELECT clicked_at FROM attribution.clicks WHERE id = $1",
                                               click_row(the_click))
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture(ORDER), order_id), None)
    order["created_at"] = order["updated_at"] = (clicked_at + timedelta(seconds=2)).isoformat()
    order["note_attributes"] = [{"name": "ll_click", "value": the_click}]
    await deliver_shopify(anonymous, source, "orders/create", order)

    review = await eventually(lambda: review_of(gateway, str(order_id)))
    [finding] = review["findings"]
    assert finding["rule"] == "click_injection" and finding["evidence"] == {"seconds": 2.0, "limit_seconds": 10}
    found = await order_named(gateway, str(order_id))
    assert found["credit"]["touch"].startswith(f"link {link['slug']}")

    bad = await gateway.post(f"{A}/fraud/reviews/{review['id']}/decision", json={"decision": "maybe", "note": "x"})
    assert bad.status_code == 422 and "decision" in bad.text
    rejected = await gateway.post(f"{A}/fraud/reviews/{review['id']}/decision",
                                  json={"decision": "reject", "note": "injected by an app on the buyer's phone"})
    assert rejected.status_code == 200, rejected.text
    listed = await entries(gateway, str(order_id))
    [commission] = [e for e in listed if e["kind"] == "commission"]
    [reversal] = [e for e in listed if e["kind"] == "clawback"]
    assert reversal["amount"] == -commission["amount"] and reversal["reverses_entry_id"] == commission["id"]
    assert reversal["refund_id"] == f"fraud-review:{review['id']}"
    assert "injected by an app on the buyer's phone" in reversal["reason"]
    again = await gateway.post(f"{A}/fraud/reviews/{review['id']}/decision", json={"decision": "reject", "note": "y"})
    assert again.status_code == 200 and len(await entries(gateway, str(order_id))) == 2  # nothing appended twice
    # Published as a cancellation is: the commission credited, then reversed, once.
    events = await eventually(lambda: _two_conversions(platform, found["id"]))
    assert [(e["event_type"], e["payload"]["commission_minor"]) for e in events] == [
        ("ConversionAttributed", commission["amount"]), ("ConversionReversed", -commission["amount"])]
    # Released and netting to zero: a payout finds nothing to pay.
    assert (await pay(gateway, creator_id)).status_code == 409
    shown = await gateway.get(f"{A}/fraud/reviews", params={"status": "rejected", "creator_id": creator_id})
    assert [r["id"] for r in shown.json()["items"]] == [review["id"]]


async def test_fraud_settings_are_validated_naming_the_field_and_are_the_tenants_own(gateway, other_gateway):
    before = await gateway.get(f"{A}/fraud/settings")
    assert before.status_code == 200, before.text
    assert before.json()["defaults"]["injection_seconds"] == 10
    for body, field in (({"burst_clicks": 0}, "burst_clicks"), ({"leaked_no_click_share": 1.5}, "leaked_no_click_share"),
                        ({"injection_seconds": "soon"}, "injection_seconds"), ({"bogus": 1}, "bogus"),
                        ({"bot_clicks": None}, "bot_clicks")):
        response = await gateway.put(f"{A}/fraud/settings", json=body)
        assert response.status_code == 422 and field in response.text, (body, response.text)
    # The other tenant's change is its own (the suite's tenant keeps its thresholds).
    changed = await other_gateway.put(f"{A}/fraud/settings", json={"burst_clicks": 50, "velocity_factor": 4.5})
    assert changed.status_code == 200, changed.text
    assert changed.json()["thresholds"]["burst_clicks"] == 50 and changed.json()["thresholds"]["velocity_factor"] == 4.5
    assert changed.json()["thresholds"]["injection_seconds"] == 10  # left out: kept
    assert (await gateway.get(f"{A}/fraud/settings")).json() == before.json()
    assert (await other_gateway.get(f"{A}/fraud/settings")).json()["thresholds"]["burst_clicks"] == 50


async def test_a_customer_key_takes_exactly_one_of_email_or_customer_id(gateway):
    _, creator, _, _ = await setup(gateway)
    for body in ({}, {"email": "a@example.com", "customer_id": "7"}, {"email": "not an address"}):
        response = await gateway.post(f"{A}/creators/{creator}/customer-keys", json=body)
        assert response.status_code == 422, (body, response.text)
    made = await gateway.post(f"{A}/creators/{creator}/customer-keys", json={"customer_id": "7200000000001"})
    assert made.status_code == 201 and len(made.json()["customer_key"]) == 64
    # A creator on none of the tenant's campaigns: its orders are never credited here.
    stranger = await gateway.post(f"{A}/creators/{uuid.uuid4()}/customer-keys", json={"customer_id": "7"})
    assert stranger.status_code == 404 and "none of your campaigns" in stranger.text


async def order_with_click(gateway, anonymous, the_click: str) -> dict:
    """A signed order carrying `the_click`, placed a minute from now: its review, once held."""
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture(ORDER), order_id), None)
    order["note_attributes"] = [{"name": "ll_click", "value": the_click}]
    await deliver_shopify(anonymous, source, "orders/create", order)
    return await eventually(lambda: review_of(gateway, str(order_id)))


async def test_a_burst_of_clicks_from_one_address_is_held(gateway, anonymous):
    campaign_id, creator_id, _, _ = await setup(gateway)
    link = await make(gateway, campaign_id, creator_id)
    for _ in range(6):  # every test click comes through the gateway from one address
        last = await click(anonymous, link["slug"])
    review = await order_with_click(gateway, anonymous, click_id(last))
    [finding] = review["findings"]
    assert finding["rule"] == "click_burst" and finding["evidence"]["scope"] == "address"
    assert finding["evidence"]["clicks"] == 6


async def test_a_visitor_that_also_sent_bot_clicks_is_held(gateway, anonymous):
    campaign_id, creator_id, _, _ = await setup(gateway)
    link = await make(gateway, campaign_id, creator_id)
    await click(anonymous, link["slug"], **{"User-Agent": "curl/8.5.0"})
    human = await click(anonymous, link["slug"])
    review = await order_with_click(gateway, anonymous, click_id(human))
    [finding] = review["findings"]
    assert finding["rule"] == "bot_traffic" and finding["evidence"]["flagged_clicks"] == 1
    assert finding["evidence"]["reasons"][0].startswith("bot")


async def test_a_code_redeemed_far_faster_than_usual_is_held_as_leaked(gateway, anonymous):
    _, creator_id, code, _ = await setup(gateway)
    source = await create_shopify_source(gateway)
    order_ids = [new_order_id() for _ in range(5)]
    for order_id in order_ids:
        await deliver_shopify(anonymous, source, "orders/create", placed_now(with_order_id(fixture(ORDER), order_id), code))
    # The first four are under the minimum of 5 an hour; the fifth, on a code with no history, is not.
    review = await eventually(lambda: review_of(gateway, str(order_ids[-1])))
    assert [(f["rule"], f["evidence"]["signal"]) for f in review["findings"]] == [("leaked_code", "velocity")]
    assert review["findings"][0]["evidence"]["last_hour"] == 5
    held = (await gateway.get(f"{A}/fraud/reviews", params={"creator_id": creator_id})).json()["items"]
    assert [r["order_id"] for r in held] == [str(order_ids[-1])]


async def test_a_code_whose_orders_ship_where_the_campaign_rarely_does_is_held_as_leaked(gateway, anonymous):
    """With the tenant's minimum lowered to 2 orders (restored after): two orders by another code of
    the campaign ship to the US; the leaked code's second order to Brazil is held, the evidence
    naming the country; the other code's orders are not held for it."""
    campaign_id, creator_id, usual_code, _ = await setup(gateway)
    leaker = str(uuid.uuid4())
    assert (await gateway.post(f"{A}/campaigns/{campaign_id}/creators", json={
        "creator_id": leaker, "deal_type": "affiliate", "fee": 0, "product_value": 0})).status_code == 201
    leaked = f"LK{uuid.uuid4().hex[:8].upper()}"
    assert (await gateway.post(f"{A}/codes", json={"campaign_id": campaign_id, "creator_id": leaker, "code": leaked})).status_code == 201
    before = (await gateway.get(f"{A}/fraud/settings")).json()["thresholds"]
    assert (await gateway.put(f"{A}/fraud/settings", json={"leaked_min_orders": 2})).status_code == 200
    try:
        source = await create_shopify_source(gateway)

        async def deliver(code: str, country: str) -> str:
            order_id = new_order_id()
            order = placed_now(with_order_id(fixture(ORDER), order_id), code)
            order["shipping_address"] = {"country_code": country, "province_code": None}
            order["customer"] = {"id": int(order_id), "email": f"{order_id}@shopper.example"}
            order["email"] = f"{order_id}@shopper.example"
            await deliver_shopify(anonymous, source, "orders/create", order)
            await eventually(lambda: entries(gateway, str(order_id)))
            return str(order_id)

        usual = [await deliver(usual_code, "US") for _ in range(2)]
        first, second = await deliver(leaked, "BR"), await deliver(leaked, "BR")
        review = await eventually(lambda: review_of(gateway, second))
        [finding] = [f for f in review["findings"] if f["evidence"].get("signal") == "unusual_countries"]
        assert finding["evidence"]["unusual"] == {"BR": 2} and finding["evidence"]["share"] == 1.0
        assert "went to countries that take under 5% of the campaign's other orders (BR 2)" in finding["reason"]
        for order_id in (*usual, first):
            held = await review_of(gateway, order_id)
            assert held is None or all(f["evidence"].get("signal") != "unusual_countries" for f in held["findings"])
    finally:
        restore = {k: v for k, v in before.items() if k in ("leaked_min_orders",)}
        assert (await gateway.put(f"{A}/fraud/settings", json=restore)).status_code == 200
