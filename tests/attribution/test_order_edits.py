"""An order edited after it was credited (found by an outside probe: an order edited from four
units to one kept the commission of four). The commission follows the order's lines in force,
under the rule and inputs it was credited with, never above what was credited: an edit down is
clawed back (a claim `limelight-edit:<delivery>`), an edit back up restores it with a commission
line of its own, an edit past the credited order earns nothing more, a refund after an edit is
measured on the lines in force, and a replayed or older update changes nothing. Through the
consumer's own function, `orders.service.apply_delivery`, on the real database, one transaction
per delivery and as one prepared batch (orders/batch.py)."""

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from services.attribution.orders import service as orders
from services.attribution.orders.models import PartnerOrder
from tests.attribution.conftest import unit_of_work
from tests.attribution.test_crediting_e2e import brand_setup, fixture, placed_now
from tests.attribution.test_orders_e2e import new_order_id, with_order_id
from tests.attribution.test_orders_batch_prepared import _apply
from tests.attribution.test_orders_one_batch import CUSTOMERS, delivery, ledger_of
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# The fixture: line 1 two tees at 25.00 less 7.50, line 2 a cap at 20.00 less 3.00; basis 59.50
# USD, 10 %: 595. Without the cap: 42.50, 425.


def edited(order: dict, minutes: int, *, without_cap: bool, tees: int = 2) -> dict:
    body = copy.deepcopy(order)
    body["updated_at"] = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()
    if without_cap:
        body["line_items"] = [line for line in body["line_items"] if line["id"] != 13600000000002]
    body["line_items"][0]["quantity"] = tees
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

    # Four tees now: the order would earn more than it was credited; it stays at what was credited.
    await apply("orders/updated", edited(order, 3, without_cap=False, tees=4))
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        assert await net(session, str(order_id)) == 595 and (await ledger_of(session, str(order_id)))[0] == entries


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
        _, claims = await ledger_of(session, str(order_id))
        # The edit's 170, then the refund's fall from 425 (not from the credited 595) to 10 % of 21.25
        left = await net(session, str(order_id))
        assert left in (212, 213)  # 10 % of 21.25, rounded by the rule
        assert sorted(amount for _, amount in claims) == sorted([170, 425 - left])


@pytest.mark.parametrize("batched", [False, True], ids=["one-by-one", "prepared-batch"])
async def test_edits_end_where_their_lines_say_one_by_one_or_in_one_batch(gateway, tenant, sessions,
                                                                          attribution_engine, batched):
    """The order inserted ahead by the batch's `prepare`, then three updates of it in the same
    batch; and a second order edited and cancelled by one update (the edit is clawed back, then the
    cancellation takes the rest: the ledger and the events both end at 0)."""
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    first, second = new_order_id(), new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), first), code)
    other = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), second), code)
    gone = edited(other, 1, without_cap=True)
    gone["cancelled_at"] = datetime.now(UTC).isoformat()
    deliveries = [("o", "orders/create", order), ("o", "orders/updated", edited(order, 1, without_cap=True)),
                  ("o", "orders/updated", edited(order, 2, without_cap=False)),
                  ("o", "orders/updated", edited(order, 3, without_cap=True)),
                  ("p", "orders/create", other), ("p", "orders/updated", gone)]
    await _apply(sessions, attribution_engine, tenant.tenant_id, source, deliveries, batched=batched)
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        assert await net(session, str(first)) == 425
        assert await net(session, str(second)) == 0
        # Published rows are kept for a week (shared/messaging/relay.py), so the outbox holds them all.
        events = (await session.execute(text(
            "SELECT e->'payload'->>'order_id', sum((e->'payload'->>'commission_minor')::int)"
            " FROM (SELECT convert_from(value, 'UTF8')::jsonb AS e FROM attribution.outbox"
            "       WHERE topic = 'attribution.conversion.v1') AS sent"
            " WHERE e->'payload'->>'order_id' IN (:a, :b) GROUP BY 1"), {"a": str(first), "b": str(second)})).all()
        assert dict(events) == {str(first): 425, str(second): 0}
