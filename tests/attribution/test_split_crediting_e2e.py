"""Crediting under a campaign's multi-touch model, through the gateway: an order that carries two
creators' codes is split by the model's shares, each creator's part a commission line of its own
that adds up to the order's commission to the cent; a refund takes back from each creator the
difference of its part before and after; a cancellation takes back everything; deliveries
repeated change nothing; the split is explained and published per creator."""

import uuid
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from services.attribution.models import split_minor
from tests.attribution.test_crediting_e2e import entries, events_for, fixture, placed_now
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, order_named, with_order_id
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

A = "/v1/attribution"
ORDER = "orders-create-usd-code-and-click.json"  # basis 59.50 USD: line items 70.00 less 10.50 of discounts


async def campaign_with_creators(gateway, model: str, count: int, params: dict | None = None) -> tuple[str, list[str], list[str]]:
    """A USD campaign credited by `model`, `count` creators enrolled, a 10 % rule, a code each: (campaign, creators, codes)."""
    body = {"name": f"split-{uuid.uuid4().hex[:6]}", "brand": "Acme", "starts_on": "2026-11-01", "ends_on": "2027-12-31",
            "budget": 1_000_000, "currency": "USD", "attribution_model": model}
    if params is not None:
        body["attribution_params"] = params
    made = await gateway.post(f"{A}/campaigns", json=body)
    assert made.status_code == 201, made.text
    campaign_id = made.json()["id"]
    creators, codes = [], []
    for _ in range(count):
        creator_id = str(uuid.uuid4())
        enrolled = await gateway.post(f"{A}/campaigns/{campaign_id}/creators",
                                      json={"creator_id": creator_id, "deal_type": "affiliate", "fee": 0, "product_value": 0})
        assert enrolled.status_code == 201, enrolled.text
        code = f"SPL{uuid.uuid4().hex[:7].upper()}"
        coded = await gateway.post(f"{A}/codes", json={"campaign_id": campaign_id, "creator_id": creator_id, "code": code})
        assert coded.status_code == 201, coded.text
        creators.append(creator_id)
        codes.append(code)
    rule = await gateway.post(f"{A}/campaigns/{campaign_id}/rules", json={"percent": "10", "holding_days": 30})
    assert rule.status_code == 201, rule.text
    return campaign_id, creators, codes


def with_codes(order: dict, codes: list[str]) -> dict:
    order = placed_now(order, None)
    # The same 10.50 of discounts, spread over the codes (the basis stays 59.50).
    order["discount_codes"] = [{"code": c, "amount": "0.00", "type": "percentage"} for c in codes]
    order["discount_codes"][0]["amount"] = "10.50"
    return order


def by_creator(listed: list[dict]) -> dict[str, int]:
    net: dict[str, int] = {}
    for e in listed:
        net[e["creator_id"]] = net.get(e["creator_id"], 0) + e["amount"]
    return net


async def test_a_linear_campaign_splits_an_orders_commission_between_two_creators_to_the_cent(gateway, anonymous, platform):
    campaign_id, creators, codes = await campaign_with_creators(gateway, "linear", 2)
    read = (await gateway.get(f"{A}/campaigns/{campaign_id}")).json()
    assert (read["attribution_model"], read["attribution_params"]) == ("linear", {})
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = with_codes(with_order_id(fixture(ORDER), order_id), codes)
    await deliver_shopify(anonymous, source, "orders/create", order)

    async def two_lines():
        listed = await entries(gateway, str(order_id))
        return listed if len(listed) == 2 else None

    listed = await eventually(two_lines)
    # 10 % of 59.50 is 5.95; half each is 2.975: the odd cent goes to the smaller creator id.
    expected = split_minor(595, {creators[0]: Fraction(1, 2), creators[1]: Fraction(1, 2)})
    assert by_creator(listed) == expected and sum(expected.values()) == 595
    assert {e["kind"] for e in listed} == {"commission"}
    credit = (await order_named(gateway, str(order_id)))["credit"]
    assert credit["commission_minor"] == 595
    assert credit["explanation"].startswith("credited under linear-v1 to 2 creators:")
    assert "50 %" in credit["explanation"] and "linear-v1: equal parts per touch" in credit["explanation"]

    # A refund of one of the two tees: the commission falls to 3.82, and each creator keeps exactly
    # its half of it; delivered twice with the order again, nothing changes.
    refund = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)
    refund["id"] = new_order_id()
    for _ in range(2):
        await deliver_shopify(anonymous, source, "refunds/create", refund)
        await deliver_shopify(anonymous, source, "orders/updated", order)

    async def clawed():
        found = await entries(gateway, str(order_id))
        return found if len(found) == 4 else None

    await eventually(clawed)
    marker = new_order_id()  # one source's deliveries are applied in order: past the marker, all were
    await deliver_shopify(anonymous, source, "orders/create", placed_now(with_order_id(fixture(ORDER), marker), None))
    await eventually(lambda: order_named(gateway, str(marker)))
    listed = await entries(gateway, str(order_id))
    assert len(listed) == 4
    after = split_minor(382, {creators[0]: Fraction(1, 2), creators[1]: Fraction(1, 2)})
    assert by_creator(listed) == after and sum(after.values()) == 382

    events = await eventually(lambda: _conversions(platform, gateway, str(order_id), 4))
    attributed = {e["payload"]["creator_id"]: e for e in events if e["event_type"] == "ConversionAttributed"}
    assert set(attributed) == set(creators)
    assert {e["payload"]["credit_share"] for e in attributed.values()} == {"0.5"}
    assert sum(e["payload"]["commission_minor"] for e in events) == 382


async def _conversions(platform, gateway, order_id: str, count: int):
    found = await order_named(gateway, order_id)
    if not found:
        return None
    events = await events_for(platform, "attribution.conversion.v1", found["id"])
    return events if len(events) >= count else None


async def test_position_based_shares_three_creators_and_a_cancellation_takes_back_every_part(gateway, anonymous):
    campaign_id, creators, codes = await campaign_with_creators(gateway, "position_based", 3, {"first": "0.5", "last": "0.3"})
    read = (await gateway.get(f"{A}/campaigns/{campaign_id}")).json()
    assert read["attribution_params"] == {"first": "1/2", "last": "3/10"}
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = with_codes(with_order_id(fixture(ORDER), order_id), codes)
    await deliver_shopify(anonymous, source, "orders/create", order)

    async def three_lines():
        listed = await entries(gateway, str(order_id))
        return listed if len(listed) == 3 else None

    listed = await eventually(three_lines)
    # Codes are typed at one instant, and at one instant the touch listed first counts as the
    # earlier for first touch and as the later for last touch (crediting's tie rule): the first
    # code typed gets the first 50 %, the second the last 30 %, the third the middle 20 %.
    shares = {creators[0]: Fraction(1, 2), creators[1]: Fraction(3, 10), creators[2]: Fraction(1, 5)}
    assert by_creator(listed) == split_minor(595, shares) == {creators[0]: 298, creators[1]: 178, creators[2]: 119}
    credit = (await order_named(gateway, str(order_id)))["credit"]
    assert credit["creator_id"] == creators[0]  # the largest share leads the order

    at = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    await deliver_shopify(anonymous, source, "orders/cancelled",
                          dict(order, cancelled_at=at, updated_at=at, financial_status="voided"))

    async def net_zero():
        found = await entries(gateway, str(order_id))
        return found if len(found) == 6 else None

    listed = await eventually(net_zero)
    assert by_creator(listed) == dict.fromkeys(creators, 0)


@pytest.mark.parametrize(("params", "field", "says"), [
    ({"half_life_days": 0}, "body.attribution_params.half_life_days", "positive number of days"),
    ({"weight": 1}, "body.attribution_params.weight", "not a parameter of time_decay"),
    ({"half_life_days": True}, "body.attribution_params", "half_life_days: a number or a decimal string, not a boolean"),
])
async def test_a_models_parameters_are_checked_naming_the_field(gateway, params, field, says):
    body = {"name": "bad-params", "brand": "Acme", "starts_on": "2026-11-01", "ends_on": "2027-12-31",
            "budget": 0, "currency": "USD", "attribution_model": "time_decay", "attribution_params": params}
    answer = await gateway.post(f"{A}/campaigns", json=body)
    assert answer.status_code == 422, answer.text
    [error] = [e for e in answer.json()["detail"] if e["field"] == field]
    assert says in error["reason"]
    unknown = await gateway.post(f"{A}/campaigns", json=dict(body, attribution_model="u_shaped", attribution_params={}))
    assert unknown.status_code == 422 and "attribution_model" in unknown.text


async def test_changing_the_model_resets_its_parameters_and_a_model_without_parameters_refuses_them(gateway):
    made = await gateway.post(f"{A}/campaigns", json={
        "name": "switch", "brand": "Acme", "starts_on": "2026-11-01", "ends_on": "2027-12-31", "budget": 0,
        "currency": "USD", "attribution_model": "time_decay", "attribution_params": {"half_life_days": "3.5"}})
    assert made.status_code == 201, made.text
    assert made.json()["attribution_params"] == {"half_life_days": "3.5"}
    campaign = made.json()["id"]
    moved = await gateway.patch(f"{A}/campaigns/{campaign}", json={"attribution_model": "markov"})
    assert moved.status_code == 200 and moved.json()["attribution_params"] == {"order": 1}
    refused = await gateway.patch(f"{A}/campaigns/{campaign}", json={"attribution_model": "linear",
                                                                     "attribution_params": {"order": 2}})
    assert refused.status_code == 422 and "body.attribution_params.order" in refused.text


async def test_a_markov_campaign_shares_an_order_by_removal_effects_fitted_over_its_earlier_paths(gateway, anonymous):
    from tests.attribution.test_comparison_e2e import markov_removal_effects

    campaign_id, (maya, leo), (maya_code, leo_code) = await campaign_with_creators(gateway, "markov", 2)
    source = await create_shopify_source(gateway)

    async def deliver(codes: list[str]) -> str:
        order_id = new_order_id()
        await deliver_shopify(anonymous, source, "orders/create", with_codes(with_order_id(fixture(ORDER), order_id), codes))
        await eventually(lambda: entries(gateway, str(order_id)))
        return str(order_id)

    # The campaign's first order has no fit to be shared by: split linearly, and it says why.
    first = await deliver([maya_code])
    explained = (await order_named(gateway, first))["credit"]["explanation"]
    assert "markov could not share this order (no converting path in USD" in explained
    await deliver([leo_code])
    await deliver([maya_code])
    # Fitted over the three earlier paths (maya, leo, maya; all converting): removing maya leaves
    # 1/3 of the conversions, removing leo 2/3, so maya's removal effect is 2/3 and leo's 1/3.
    both = await deliver([maya_code, leo_code])
    paths = [([(maya, None)], True), ([(leo, None)], True), ([(maya, None)], True)]
    effects = markov_removal_effects(paths)
    shares = {c: effects[c] / sum(effects.values()) for c in effects}
    assert shares == {maya: Fraction(2, 3), leo: Fraction(1, 3)}
    listed = await entries(gateway, both)
    assert by_creator(listed) == split_minor(595, shares) == {maya: 397, leo: 198}
    credit = (await order_named(gateway, both))["credit"]
    assert credit["creator_id"] == maya and "markov-v1 fitted over the campaign's 3 paths (3 converting)" in credit["explanation"]


async def test_a_recomputation_moves_money_by_adjustments_and_never_rewrites_an_entry(gateway, anonymous):
    campaign_id, (maya, leo), codes = await campaign_with_creators(gateway, "linear", 2)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    await deliver_shopify(anonymous, source, "orders/create", with_codes(with_order_id(fixture(ORDER), order_id), codes))
    refund = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)
    refund["id"] = new_order_id()
    await deliver_shopify(anonymous, source, "refunds/create", refund)

    async def settled():
        listed = await entries(gateway, str(order_id))
        return listed if len(listed) == 4 else None

    original = await eventually(settled)
    halves = split_minor(382, {maya: Fraction(1, 2), leo: Fraction(1, 2)})
    assert by_creator(original) == halves

    # The brand moves the campaign to first touch and re-credits: maya's code was typed first, so
    # she now holds all of the order's 3.82 net commission; leo gives his part back by a clawback.
    assert (await gateway.patch(f"{A}/campaigns/{campaign_id}", json={"attribution_model": "first_touch"})).status_code == 200
    done = await gateway.post(f"{A}/campaigns/{campaign_id}/attribution/recompute")
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["model"], body["orders_examined"], body["orders_adjusted"], body["adjustments"]) == ("first_touch", 1, 1, 2)
    assert body["moved_minor"] == {"USD": halves[leo]} and body["next_after"] is None
    listed = await entries(gateway, str(order_id))
    assert by_creator(listed) == {maya: 382, leo: 0}
    kept = {e["id"]: (e["kind"], e["amount"], e["creator_id"]) for e in listed}
    assert all(kept[e["id"]] == (e["kind"], e["amount"], e["creator_id"]) for e in original)  # nothing rewritten
    assert sum(e["amount"] for e in listed) == 382

    again = await gateway.post(f"{A}/campaigns/{campaign_id}/attribution/recompute")
    assert again.status_code == 200 and again.json()["orders_adjusted"] == 0 and again.json()["adjustments"] == 0
    assert len(await entries(gateway, str(order_id))) == len(listed)

    # And back to linear: each holds its half again, the total still 3.82.
    await gateway.patch(f"{A}/campaigns/{campaign_id}", json={"attribution_model": "linear"})
    back = await gateway.post(f"{A}/campaigns/{campaign_id}/attribution/recompute")
    assert back.status_code == 200 and back.json()["orders_adjusted"] == 1
    listed = await entries(gateway, str(order_id))
    assert by_creator(listed) == halves and sum(e["amount"] for e in listed) == 382


async def test_recomputing_an_unknown_or_another_tenants_campaign_is_404(gateway, other_gateway):
    campaign_id, _, _ = await campaign_with_creators(gateway, "linear", 1)
    assert (await other_gateway.post(f"{A}/campaigns/{campaign_id}/attribution/recompute")).status_code == 404
    assert (await gateway.post(f"{A}/campaigns/{uuid.uuid4()}/attribution/recompute")).status_code == 404


async def test_time_decay_shares_with_long_exact_fractions_are_kept_and_paid(gateway, anonymous, platform):
    """A click some seconds before a code at checkout: time decay's weights are 40-digit powers of
    two, so the exact shares run to about 80 digits; the order is credited, split and kept."""
    import httpx

    from tests.attribution.test_click_redirect import BROWSER, click_id

    campaign_id, (maya, leo), (_, leo_code) = await campaign_with_creators(gateway, "time_decay", 2)
    assert (await gateway.patch(f"{A}/campaigns/{campaign_id}", json={"attribution_precedence": "recency"})).status_code == 200
    link = await gateway.post(f"{A}/links", json={"campaign_id": campaign_id, "creator_id": maya,
                                                  "destination": "https://shop.example/tee"})
    assert link.status_code == 201, link.text
    async with httpx.AsyncClient(base_url=platform.s.url("attribution"), timeout=60) as direct:
        visited = await direct.get(f"/r/{link.json()['slug']}",
                                   headers={"User-Agent": BROWSER, "X-Forwarded-For": "81.4.7.9"})
    assert visited.status_code == 302
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = with_codes(with_order_id(fixture(ORDER), order_id), [leo_code])
    order["landing_site"] = f"/products/black-tee?ll_click={click_id(visited)}"
    await deliver_shopify(anonymous, source, "orders/create", order)

    async def two_lines():
        listed = await entries(gateway, str(order_id))
        return listed if len(listed) == 2 else None

    listed = await eventually(two_lines)
    parts = by_creator(listed)
    assert sum(parts.values()) == 595 and set(parts) == {maya, leo}
    assert parts[leo] >= parts[maya]  # the code at checkout is younger than the click
    assert "credited under time_decay-v1 to 2 creators" in (await order_named(gateway, str(order_id)))["credit"]["explanation"]


async def test_a_refund_leaves_each_of_three_creators_exactly_its_share_of_what_is_left(gateway, anonymous):
    _, creators, codes = await campaign_with_creators(gateway, "linear", 3)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    await deliver_shopify(anonymous, source, "orders/create", with_codes(with_order_id(fixture(ORDER), order_id), codes))
    refund = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)
    refund["id"] = new_order_id()
    await deliver_shopify(anonymous, source, "refunds/create", refund)
    await deliver_shopify(anonymous, source, "refunds/create", refund)  # again: nothing more

    thirds = dict.fromkeys(creators, Fraction(1, 3))

    async def settled():
        listed = await entries(gateway, str(order_id))
        return listed if sum(e["amount"] for e in listed) == 382 else None

    listed = await eventually(settled)
    assert by_creator(listed) == split_minor(382, thirds)  # 128, 127, 127
    assert sum(e["amount"] for e in listed if e["kind"] == "clawback") == -(595 - 382)
