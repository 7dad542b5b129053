"""An order edited after it was credited (found by an outside probe: an order edited from four
units to one kept the commission of four). The commission follows the order's lines in force,
under the rule and inputs it was credited with: an edit down is clawed back (a claim
`limelight-edit:<delivery>`), an edit up adds a commission line of its own, a refund after an edit
is measured on the lines in force, and a replayed or older update changes nothing. Through the
consumer's own function, `orders.service.apply_delivery`, on the real database."""

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.attribution.orders import service as orders
from services.attribution.orders.models import PartnerOrder
from tests.attribution.conftest import unit_of_work
from tests.attribution.test_crediting_e2e import brand_setup, fixture, placed_now
from tests.attribution.test_orders_e2e import new_order_id, with_order_id
from tests.attribution.test_orders_one_batch import CUSTOMERS, delivery, ledger_of
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# The fixture: line 1 two tees at 25.00 less 7.50, line 2 a cap at 20.00 less 3.00; basis 59.50
# USD, 10 %: 595. Without the cap: 42.50, 425.


def edited(order: dict, minutes: int, *, without_cap: bool) -> dict:
    body = copy.deepcopy(order)
    body["updated_at"] = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()
    if without_cap:
        body["line_items"] = [line for line in body["line_items"] if line["id"] != 13600000000002]
    return body


async def net(session, order_id: str) -> int:
    entries, _ = await ledger_of(session, order_id)
    return sum(amount for _, _, amount in entries)


async def test_an_edit_down_is_clawed_back_an_edit_up_credited_and_a_replay_changes_nothing(gateway, tenant, sessions):
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    down, up = edited(order, 1, without_cap=True), edited(order, 2, without_cap=False)

    async def apply(topic: str, body: dict) -> None:
        async with unit_of_work(sessions, tenant.tenant_id) as session:
            await orders.apply_delivery(session, tenant.tenant_id, delivery(source, topic, body), CUSTOMERS)

    await apply("orders/create", order)
    await apply("orders/updated", down)
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        entries, claims = await ledger_of(session, str(order_id))
        assert entries[0] == ("commission", "order", 595) and await net(session, str(order_id)) == 425
        assert len(claims) == 1 and claims[0][0].startswith("limelight-edit:") and claims[0][1] == 170
        row = (await session.execute(select(PartnerOrder).where(PartnerOrder.order_id == str(order_id)))).scalar_one()
        assert row.basis_minor == 4250

    await apply("orders/updated", down)  # the partner's retry: a new delivery id, the same order
    await apply("orders/updated", edited(order, -30, without_cap=False))  # older than the one kept
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        assert await net(session, str(order_id)) == 425 and len((await ledger_of(session, str(order_id)))[1]) == 1

    await apply("orders/updated", up)
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        entries, _ = await ledger_of(session, str(order_id))
        assert [e for e in entries if e[1] and e[1].startswith("limelight-edit:")] == [
            ("commission", entries[-1][1], 170)]
        assert await net(session, str(order_id)) == 595


async def test_a_refund_after_an_edit_is_measured_on_the_lines_in_force(gateway, tenant, sessions):
    """Edited down to the two tees (425), then one tee refunded (21.25 of the basis): the
    commission is 10 % of 21.25 — what is left of the order — not of what it was before the edit."""
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    refund = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)
    for topic, body in (("orders/create", order), ("orders/updated", edited(order, 1, without_cap=True)),
                        ("refunds/create", refund)):
        async with unit_of_work(sessions, tenant.tenant_id) as session:
            await orders.apply_delivery(session, tenant.tenant_id, delivery(source, topic, body), CUSTOMERS)
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        row = (await session.execute(select(PartnerOrder).where(PartnerOrder.order_id == str(order_id)))).scalar_one()
        assert row.basis_minor == 2125
        assert await net(session, str(order_id)) in (212, 213)  # 10 % of 21.25, rounded by the rule


async def test_edits_in_one_batch_end_where_they_end_one_by_one(gateway, tenant, sessions):
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        for topic, body in (("orders/create", order), ("orders/updated", edited(order, 1, without_cap=True)),
                            ("orders/updated", edited(order, 2, without_cap=False)),
                            ("orders/updated", edited(order, 3, without_cap=True))):
            await orders.apply_delivery(session, tenant.tenant_id, delivery(source, topic, body), CUSTOMERS)
        assert await net(session, str(order_id)) == 425
