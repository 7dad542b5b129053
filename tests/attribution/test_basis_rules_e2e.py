"""Basis rules through the gateway, on real Kafka and PostgreSQL (docs/decisions/0060): a refund
of money alone claws back the commission of an order stored under rules 2 (the code stamps it:
the column's default is 1), not of one stored under rules 1; refunds arriving out of order claw
back what all of them leave, no more; a gift card sold earns nothing; and migration 0026 stamps
the orders kept before it with rules 1, so what they earn does not change."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command

from shared.migrations import alembic_config
from tests.attribution.test_campaign_money_migration import _run, scratch_database  # noqa: F401 (a fixture)
from tests.attribution.test_crediting_e2e import A, brand_setup, decided, entries, fixture, placed_now
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, order_named, with_order_id
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = pytest.mark.integration


def money_alone(order_id: int, amount: str = "10.00") -> dict:
    """A Shopify refund that returns money and no line item (an order adjustment), in USD."""
    money = {"amount": f"-{amount}", "currency_code": "USD"}
    return {
        "id": new_order_id(), "order_id": order_id, "created_at": (datetime.now(UTC) + timedelta(minutes=2)).isoformat(),
        "refund_line_items": [],
        "transactions": [{"id": 1, "kind": "refund", "status": "success", "amount": amount, "currency": "USD"}],
        "order_adjustments": [{"id": 1, "kind": "refund_discrepancy", "amount": f"-{amount}",
                               "amount_set": {"shop_money": money, "presentment_money": money}}],
    }


async def _basis_is(gateway, order_id: int, minor: int) -> dict | None:
    found = await order_named(gateway, str(order_id))
    return found if found and found["basis_minor"] == minor else None


async def _credited_order(gateway, anonymous, extra_lines: tuple = ()):
    _, creator_id, code = await brand_setup(gateway)  # 10 % of the basis
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    order["line_items"] += list(extra_lines)
    await deliver_shopify(anonymous, source, "orders/create", order)
    return source, order_id, (await decided(gateway, order_id))


@pytest.mark.asyncio
async def test_a_refund_of_money_alone_claws_back_the_commission_under_rules_2(gateway, anonymous):
    source, order_id, order = await _credited_order(gateway, anonymous)
    assert order["basis_rules"] == 2 and order["credit"]["commission_minor"] == 595
    await eventually(lambda: entries(gateway, str(order_id)))
    # 10.00 of the 69.26 paid comes back: the basis 59.50 falls by 8.59 to 50.91, taken from the
    # lines 42.50 and 17.00 in proportion (36.36 and 14.55 left): 3.64 + 1.46 = 5.10, 0.85 less.
    for _ in range(2):  # delivered twice: the second changes nothing
        await deliver_shopify(anonymous, source, "refunds/create", money_alone(order_id) | {"id": order_id + 1})
    found = await eventually(lambda: _basis_is(gateway, order_id, 5091))
    assert "taken from line 13600000000001 less 6.14 USD, line 13600000000002 less 2.45 USD." in found["basis_explanation"]

    async def clawed():
        listed = await entries(gateway, str(order_id))
        return listed if len(listed) == 2 else None

    listed = await eventually(clawed)
    assert sorted((e["kind"], e["amount"]) for e in listed) == [("clawback", -85), ("commission", 595)]


@pytest.mark.asyncio
async def test_refunds_arriving_out_of_order_claw_back_what_all_of_them_leave(gateway, anonymous):
    source, order_id, order = await _credited_order(gateway, anonymous)
    await eventually(lambda: entries(gateway, str(order_id)))
    now = datetime.now(UTC)
    tee = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)  # one of the two tees
    tee["id"], tee["created_at"] = new_order_id(), (now + timedelta(minutes=2)).isoformat()
    money = money_alone(order_id) | {"created_at": (now + timedelta(minutes=3)).isoformat()}
    # The later refund first: alone, 10.00 back takes 5.95 to 5.10 (0.85 back).
    await deliver_shopify(anonymous, source, "refunds/create", money)
    await eventually(lambda: _basis_is(gateway, order_id, 5091))
    # Then the tee, refunded before it: both leave the basis 38.25 less 5.52 (10.00 of 69.26),
    # 32.73, taken 3.07 / 2.45 from the lines' 21.25 / 17.00: 1.82 + 1.46 = 3.28 earned, so
    # 2.67 back in all. Taking the tee's fall alone (5.95 to 3.82) after the 0.85 would be 2.98.
    await deliver_shopify(anonymous, source, "refunds/create", tee)
    await eventually(lambda: _basis_is(gateway, order_id, 3273))
    listed = await entries(gateway, str(order_id))
    assert sorted((e["kind"], e["amount"]) for e in listed) == [("clawback", -182), ("clawback", -85), ("commission", 595)]


@pytest.mark.asyncio
async def test_a_refund_clawed_back_by_code_that_marks_nothing_counts_as_settled(gateway, anonymous, platform):
    """During a deploy a consumer still on the code before migration 0027 claws a refund back
    without marking it settled (emulated here by clearing the mark). The next refund measures
    against it all the same: measured again, it was claimed a second time with another amount,
    which the ledger refused, and every later message of the order was dead-lettered."""
    source, order_id, order = await _credited_order(gateway, anonymous)
    await eventually(lambda: entries(gateway, str(order_id)))
    now = datetime.now(UTC)
    await deliver_shopify(anonymous, source, "refunds/create", money_alone(order_id) | {"created_at": (now + timedelta(minutes=3)).isoformat()})
    await eventually(lambda: _basis_is(gateway, order_id, 5091))
    cleared = await _run(platform.service_env("attribution")["DATABASE_URL"],
                         "update attribution.order_refunds set settled = false where order_id = $1 returning id", str(order_id))
    assert len(cleared) == 1
    tee = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)
    tee["id"], tee["created_at"] = new_order_id(), (now + timedelta(minutes=2)).isoformat()
    await deliver_shopify(anonymous, source, "refunds/create", tee)
    await eventually(lambda: _basis_is(gateway, order_id, 3273))
    listed = await entries(gateway, str(order_id))
    assert sorted((e["kind"], e["amount"]) for e in listed) == [("clawback", -182), ("clawback", -85), ("commission", 595)]


@pytest.mark.asyncio
async def test_under_a_cap_a_refund_that_takes_nothing_alone_is_settled_all_the_same(gateway, anonymous):
    """Refunds B (a tee), A (10.00 of money, dated before B) and C (the other line, dated last)
    arrive B, A, C on an order earning 10 %, capped at 3.50. Alone, B and A leave more than 3.50
    and take nothing; together they leave 3.28; all three leave 1.82. Settled refunds are marked
    (migration 0027): A is measured against B, C against both, 0.22 + 1.46 = 1.68 = 3.50 - 1.82.
    Read from the claims, B (no claim) would be measured again after A and take 0.22 twice."""
    campaign = await gateway.post(f"{A}/campaigns", json={
        "name": f"cap-{uuid.uuid4().hex[:6]}", "brand": "Acme", "starts_on": "2026-11-01", "ends_on": "2027-12-31",
        "budget": 1_000_000, "currency": "USD"})
    assert campaign.status_code == 201, campaign.text
    campaign_id, creator_id = campaign.json()["id"], str(uuid.uuid4())
    for path, body in ((f"{A}/campaigns/{campaign_id}/creators", {"creator_id": creator_id, "deal_type": "affiliate", "fee": 0,
                                                                  "product_value": 0}),
                       (f"{A}/campaigns/{campaign_id}/rules", {"percent": "10", "holding_days": 30, "cap_per_order": 350})):
        made = await gateway.post(path, json=body)
        assert made.status_code == 201, made.text
    code = f"CAP{uuid.uuid4().hex[:6].upper()}"
    made = await gateway.post(f"{A}/codes", json={"campaign_id": campaign_id, "creator_id": creator_id, "code": code})
    assert made.status_code == 201, made.text
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    await deliver_shopify(anonymous, source, "orders/create",
                          placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code))
    assert (await decided(gateway, order_id))["credit"]["commission_minor"] == 350
    await eventually(lambda: entries(gateway, str(order_id)))
    now = datetime.now(UTC)
    tee = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)
    tee["id"], tee["created_at"] = new_order_id(), (now + timedelta(minutes=2)).isoformat()
    money = money_alone(order_id) | {"created_at": (now + timedelta(minutes=1)).isoformat()}
    usd = lambda amount: {"shop_money": {"amount": amount, "currency_code": "USD"},  # noqa: E731
                          "presentment_money": {"amount": amount, "currency_code": "USD"}}
    other_line = {
        "id": new_order_id(), "order_id": order_id, "created_at": (now + timedelta(minutes=3)).isoformat(),
        "refund_line_items": [{"id": 1, "line_item_id": 13600000000002, "quantity": 1, "subtotal": "17.00",
                               "subtotal_set": usd("17.00"), "total_tax": "0.00", "total_tax_set": usd("0.00")}],
        "transactions": [{"id": 2, "kind": "refund", "status": "success", "amount": "17.00", "currency": "USD"}],
        "order_adjustments": [],
    }
    for refund, basis in ((tee, 3825), (money, 3273), (other_line, 1818)):
        await deliver_shopify(anonymous, source, "refunds/create", refund)
        await eventually(lambda basis=basis: _basis_is(gateway, order_id, basis))
    listed = await entries(gateway, str(order_id))
    assert sorted((e["kind"], e["amount"]) for e in listed) == [("clawback", -146), ("clawback", -22), ("commission", 350)]


@pytest.mark.asyncio
async def test_an_order_stored_under_rules_1_keeps_its_commission_after_a_refund_of_money_alone(
        gateway, anonymous, platform):
    source, order_id, order = await _credited_order(gateway, anonymous)
    await eventually(lambda: entries(gateway, str(order_id)))
    # As migration 0026 leaves an order stored before it.
    updated = await _run(platform.service_env("attribution")["DATABASE_URL"],
                         "update attribution.orders set basis_rules = 1 where id = $1 returning id",
                         uuid.UUID(order["id"]))
    assert len(updated) == 1
    await deliver_shopify(anonymous, source, "refunds/create", money_alone(order_id))
    found = await eventually(lambda: _basis_is(gateway, order_id, 5091))  # the order's basis falls as before
    assert found["basis_rules"] == 1 and "taken from" not in found["basis_explanation"]
    # The ledger is written in the refund's transaction, with the basis: nothing was clawed back.
    assert [(e["kind"], e["amount"]) for e in await entries(gateway, str(order_id))] == [("commission", 595)]


@pytest.mark.asyncio
async def test_a_gift_card_sold_earns_no_commission(gateway, anonymous):
    card = {"id": 13600000000009, "quantity": 1, "price": "50.00", "gift_card": True, "title": "Gift card",
            "discount_allocations": [], "tax_lines": []}
    _, order_id, order = await _credited_order(gateway, anonymous, (card,))
    assert order["credit"]["commission_minor"] == 595  # 10 % of 59.50, not of 109.50
    assert (order["basis_minor"], order["basis_before_refunds_minor"]) == (5950, 5950)
    assert [line["gift_card"] for line in order["lines"]] == [False, False, True]
    assert "Gift cards sold are not in the basis" in order["basis_explanation"]


def test_0026_stamps_the_orders_kept_before_it_with_rules_1(scratch_database):  # noqa: F811 (the fixture)
    config = alembic_config("attribution", scratch_database)
    command.upgrade(config, "0025")
    insert = ("insert into attribution.orders (id, source, source_id, order_id, placed_at, currency, lines, taxes_included, "
              "codes, click_ids, test, notes, state, basis_minor, basis_before_refunds_minor, basis_explanation, "
              "last_delivery_id, tenant_id) values ($1, 'generic', $2, $3, now(), 'USD', '[]', false, '{}', '{}', false, "
              "'{}', 'open', 0, 0, '', 'd', $4)")
    kept = uuid.uuid4()
    asyncio.run(_run(scratch_database, insert, kept, uuid.uuid4(), "before", uuid.uuid4()))

    command.upgrade(config, "0026")
    # A row written without the column (a replica still on the code before it, during a deploy)
    # is under the rules that code computed it with; the code stamps its orders itself.
    later, stamped = uuid.uuid4(), uuid.uuid4()
    asyncio.run(_run(scratch_database, insert, later, uuid.uuid4(), "after", uuid.uuid4()))
    asyncio.run(_run(scratch_database, insert.replace("tenant_id)", "tenant_id, basis_rules)").replace("$4)", "$4, 2)"),
                     stamped, uuid.uuid4(), "stamped", uuid.uuid4()))
    rows = asyncio.run(_run(scratch_database, "select id, basis_rules from attribution.orders"))
    assert {r["id"]: r["basis_rules"] for r in rows} == {kept: 1, later: 1, stamped: 2}
    with pytest.raises(Exception, match="ck_orders_basis_rules_known"):
        asyncio.run(_run(scratch_database, "update attribution.orders set basis_rules = 3"))

    command.downgrade(config, "0025")
    columns = asyncio.run(_run(scratch_database, "select column_name from information_schema.columns "
                                                 "where table_schema = 'attribution' and table_name = 'orders'"))
    assert "basis_rules" not in {r["column_name"] for r in columns}


def test_0027_marks_settled_the_refunds_of_the_orders_kept(scratch_database):  # noqa: F811 (the fixture)
    """Settlement has run for every refund of an order that exists (it runs after every message
    about the order); a refund kept ahead of its order has not, until the order arrives."""
    config = alembic_config("attribution", scratch_database)
    command.upgrade(config, "0026")
    tenant, source_id = uuid.uuid4(), uuid.uuid4()
    asyncio.run(_run(
        scratch_database,
        "insert into attribution.orders (id, source, source_id, order_id, placed_at, currency, lines, taxes_included, "
        "codes, click_ids, test, notes, state, basis_minor, basis_before_refunds_minor, basis_explanation, "
        "last_delivery_id, tenant_id) values ($1, 'generic', $2, 'kept', now(), 'USD', '[]', false, '{}', '{}', false, "
        "'{}', 'open', 0, 0, '', 'd', $3)", uuid.uuid4(), source_id, tenant))
    refund = ("insert into attribution.order_refunds (id, source, source_id, order_id, refund_id, refunded_at, currency, "
              "lines, shipping_minor, adjustment_minor, delivery_id, tenant_id) values ($1, 'generic', $2, $3, $4, now(), "
              "$6, '[]', 0, 100, 'd', $5)")
    for order_id, refund_id, owner, currency in (
            ("kept", "R-1", tenant, "USD"), ("kept", "R-2", tenant, "USD"), ("ahead", "R-3", tenant, "USD"),
            ("kept", "R-4", uuid.uuid4(), "USD"),  # another tenant's order of the same name
            ("kept", "R-5", tenant, "EUR")):  # not the order's currency: never counted
        asyncio.run(_run(scratch_database, refund, uuid.uuid4(), source_id, order_id, refund_id, owner, currency))

    command.upgrade(config, "0027")
    rows = asyncio.run(_run(scratch_database, "select refund_id, settled from attribution.order_refunds"))
    assert {r["refund_id"]: r["settled"] for r in rows} == {
        "R-1": True, "R-2": True, "R-3": False, "R-4": False, "R-5": False}
    command.downgrade(config, "0026")
