"""The commission rules' inputs through the whole path: tiers read the creator's attributed
revenue over the rule's window of whole UTC days before the order's day (running totals kept as
orders are credited, refunded and cancelled), the monthly cap reads what was already credited,
and a campaign's own attribution settings decide between a code and a click."""

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from tests.attribution.test_click_redirect import click, click_id
from tests.attribution.test_crediting_e2e import A, entries, fixture
from tests.attribution.test_links import make
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, order_named, with_order_id
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# The fixture order's lines: 2 tees 50.00 - 7.50 discount and a cap 20.00 - 3.00: basis 59.50 USD.
BASIS = 5950
LINES = (4250, 1700)


def commission_at(percent: int) -> int:
    """The fixture order's commission at a whole percent, line by line (no rounding involved)."""
    return sum(line * percent // 100 for line in LINES)


async def campaign_with_creator(gateway, rule: dict, **campaign) -> tuple[str, str, str]:
    made = await gateway.post(f"{A}/campaigns", json={
        "name": f"totals-{uuid.uuid4().hex[:6]}", "brand": "Acme", "starts_on": "2026-11-01", "ends_on": "2027-12-31",
        "budget": 1_000_000, "currency": "USD", **campaign})
    assert made.status_code == 201, made.text
    campaign_id = made.json()["id"]
    creator_id = await enrol(gateway, campaign_id)
    response = await gateway.post(f"{A}/campaigns/{campaign_id}/rules", json={"holding_days": 30, **rule})
    assert response.status_code == 201, response.text
    code = f"TIER{uuid.uuid4().hex[:6].upper()}"
    response = await gateway.post(f"{A}/codes", json={"campaign_id": campaign_id, "creator_id": creator_id, "code": code})
    assert response.status_code == 201, response.text
    return campaign_id, creator_id, code


async def enrol(gateway, campaign_id: str) -> str:
    creator_id = str(uuid.uuid4())
    response = await gateway.post(f"{A}/campaigns/{campaign_id}/creators",
                                  json={"creator_id": creator_id, "deal_type": "affiliate", "fee": 0, "product_value": 0})
    assert response.status_code == 201, response.text
    return creator_id


def order_on(day_offset: int, code: str | None, *, hour: int = 12, click: str | None = None) -> tuple[int, dict]:
    """A new order placed `day_offset` UTC days after today at `hour`:00 (after the rule took effect)."""
    day = datetime.now(UTC).date() + timedelta(days=day_offset)
    at = datetime.combine(day, time(hour), tzinfo=UTC).isoformat()
    order_id = new_order_id()
    data = with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id)
    data["created_at"] = data["updated_at"] = at
    data["discount_codes"] = [{"code": code, "amount": "10.50", "type": "percentage"}] if code else []
    data["landing_site"] = f"/products/black-tee?ll_click={click}" if click else "/products/black-tee"
    data["note_attributes"] = []
    data["customer"] = {**data["customer"], "id": uuid.uuid4().int % 10**12}
    data["email"] = data["customer"]["email"] = f"{uuid.uuid4().hex[:8]}@example.com"
    return order_id, data


async def credited(gateway, order_id: int) -> dict:
    async def decided():
        found = await order_named(gateway, str(order_id))
        return found["credit"] if found and found["credit"] else None

    return await eventually(decided)


async def test_tiers_read_the_revenue_of_whole_days_before_the_order_and_follow_cancellations(gateway, anonymous):
    # 4 % up to 50.00 USD of revenue in the window, 8 % above.
    _, _, code = await campaign_with_creator(
        gateway, {"percent": "4", "tiers": [{"above": 5000, "percent": "8"}], "window_days": 30})
    source = await create_shopify_source(gateway)

    first, first_order = order_on(1, code)
    await deliver_shopify(anonymous, source, "orders/create", first_order)
    credit = await credited(gateway, first)
    assert (credit["revenue_in_window_minor"], credit["commission_minor"]) == (0, commission_at(4))

    # The next day: the first order's 59.50 is in the window, above 50.00: 8 %.
    second, order = order_on(2, code)
    await deliver_shopify(anonymous, source, "orders/create", order)
    credit = await credited(gateway, second)
    assert (credit["revenue_in_window_minor"], credit["commission_minor"]) == (BASIS, commission_at(8))

    # Later the same day as the first: that day is not in its window, whatever arrived first.
    same_day, order = order_on(1, code, hour=18)
    await deliver_shopify(anonymous, source, "orders/create", order)
    credit = await credited(gateway, same_day)
    assert (credit["revenue_in_window_minor"], credit["commission_minor"]) == (0, commission_at(4))

    # The first order is cancelled (twice: once is what counts): its revenue leaves the totals.
    cancelled = dict(first_order, cancelled_at=first_order["created_at"], financial_status="voided",
                     updated_at=(datetime.fromisoformat(first_order["updated_at"]) + timedelta(minutes=5)).isoformat())
    for _ in range(2):
        await deliver_shopify(anonymous, source, "orders/cancelled", cancelled)

    async def clawed_back():
        listed = await entries(gateway, str(first))
        return listed if len(listed) == 2 else None

    await eventually(clawed_back)
    # Day 1 now holds the later order's 59.50 only, day 2 the second order's.
    fourth, order = order_on(3, code)
    await deliver_shopify(anonymous, source, "orders/create", order)
    credit = await credited(gateway, fourth)
    assert credit["revenue_in_window_minor"] == 2 * BASIS and credit["commission_minor"] == commission_at(8)


async def test_the_monthly_cap_counts_what_was_credited_before(gateway, anonymous):
    # 10 % (595 per order), at most 10.00 USD a month.
    _, _, code = await campaign_with_creator(gateway, {"percent": "10", "cap_per_period": 1000})
    source = await create_shopify_source(gateway)
    # Both on the same day, a day whose month is the same as tomorrow's (at most 27 days ahead).
    offset = 1 if (datetime.now(UTC) + timedelta(days=1)).day < 28 else 5
    paid = []
    for hour in (10, 11):
        order_id, order = order_on(offset, code, hour=hour)
        await deliver_shopify(anonymous, source, "orders/create", order)
        paid.append(await credited(gateway, order_id))
    assert [(c["earned_in_period_minor"], c["commission_minor"]) for c in paid] == [(0, 595), (595, 1000 - 595)]


async def test_a_campaign_where_links_take_precedence_credits_the_click_over_the_code(gateway, anonymous):
    campaign_id, coded, code = await campaign_with_creator(gateway, {"percent": "10"}, attribution_precedence="link")
    assert (await gateway.get(f"{A}/campaigns/{campaign_id}")).json()["attribution_precedence"] == "link"
    clicked = await enrol(gateway, campaign_id)
    link = await make(gateway, campaign_id, clicked)
    redirect = await click(anonymous, link["slug"])
    assert redirect.status_code == 302, redirect.text
    source = await create_shopify_source(gateway)

    order_id, order = order_on(1, code, click=click_id(redirect))
    await deliver_shopify(anonymous, source, "orders/create", order)
    credit = await credited(gateway, order_id)
    assert credit["creator_id"] == clicked and credit["touch"] == f"link {link['slug']}"
    assert "was not credited because links take precedence" in credit["explanation"]

    # Set back to codes: orders credited from then on follow it; the one above keeps its decision.
    response = await gateway.patch(f"{A}/campaigns/{campaign_id}", json={"attribution_precedence": "code"})
    assert response.status_code == 200 and response.json()["attribution_precedence"] == "code", response.text
    again, order = order_on(1, code, click=click_id(redirect), hour=13)
    await deliver_shopify(anonymous, source, "orders/create", order)
    assert (await credited(gateway, again))["creator_id"] == coded
    assert (await credited(gateway, order_id))["creator_id"] == clicked


async def test_an_unknown_attribution_setting_is_refused_naming_the_field(gateway):
    response = await gateway.post(f"{A}/campaigns", json={
        "name": "bad", "brand": "Acme", "starts_on": "2026-11-01", "ends_on": "2027-12-31", "budget": 0, "currency": "USD",
        "attribution_model": "u_shaped"})
    assert response.status_code == 422, response.text
    assert [p["field"] for p in response.json()["detail"]] == ["body.attribution_model"], response.text


async def test_an_order_moved_to_another_day_stays_counted_on_the_day_it_was_credited(gateway, anonymous):
    _, _, code = await campaign_with_creator(
        gateway, {"percent": "4", "tiers": [{"above": 5000, "percent": "8"}], "window_days": 30})
    source = await create_shopify_source(gateway)
    moved, order = order_on(1, code)
    await deliver_shopify(anonymous, source, "orders/create", order)
    await credited(gateway, moved)
    # The partner corrects its time to two days later, then cancels it: what was added to the
    # first day is taken from the first day.
    later = (datetime.fromisoformat(order["created_at"]) + timedelta(days=2)).isoformat()
    updated = dict(order, created_at=later, updated_at=(datetime.fromisoformat(later) + timedelta(minutes=1)).isoformat())
    await deliver_shopify(anonymous, source, "orders/updated", updated)
    cancelled = dict(updated, cancelled_at=later, financial_status="voided",
                     updated_at=(datetime.fromisoformat(later) + timedelta(minutes=5)).isoformat())
    await deliver_shopify(anonymous, source, "orders/cancelled", cancelled)

    async def clawed_back():
        listed = await entries(gateway, str(moved))
        return listed if len(listed) == 2 else None

    await eventually(clawed_back)
    # An order on the day between reads the first day only: nothing is left there.
    between, order = order_on(2, code)
    await deliver_shopify(anonymous, source, "orders/create", order)
    assert (await credited(gateway, between))["revenue_in_window_minor"] == 0
