"""An order and its redeliveries inside one consumer batch (one transaction, as the order consumer
applies the records of one Kafka poll, ADR 0005): the first delivery stores the order and records
its commission without reading the ledger (ADR 0057: nothing of an order inserted by this very
transaction can be there); a second delivery of it and an update in the same transaction must
still find that commission — one entry, the same figures — and a refund in it claws back from it.
Through the consumer's own function, `orders.service.apply_delivery`, on the real database."""

import copy
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.attribution.crediting.models import OrderCredit
from services.attribution.ledger.models import ClawbackClaim, LedgerEntry
from services.attribution.orders import service as orders
from services.attribution.orders.models import PartnerOrder
from services.attribution.orders.model import customer_hash
from shared.contracts.gateway import WebhookReceived
from tests.attribution.conftest import unit_of_work
from tests.attribution.test_crediting_e2e import brand_setup, fixture, placed_now
from tests.attribution.test_orders_e2e import new_order_id, with_order_id
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CUSTOMERS = customer_hash(b"a test key of the order path, 32b")


def delivery(source, topic: str, body: dict) -> WebhookReceived:
    return WebhookReceived(
        delivery_id=str(uuid.uuid4()), partner_id=source.shop_domain, source="shopify", source_id=uuid.UUID(source.id),
        topic=topic, received_at=datetime.now(UTC), content_type="application/json", body=json.dumps(body))


async def ledger_of(session, order_id: str) -> tuple[list[tuple], list[tuple]]:
    entries = (await session.execute(select(LedgerEntry).where(LedgerEntry.order_id == order_id)
                                     .order_by(LedgerEntry.created_at, LedgerEntry.kind))).scalars()
    claims = (await session.execute(select(ClawbackClaim).where(ClawbackClaim.order_id == order_id))).scalars()
    return [(e.kind, e.line_key, e.amount) for e in entries], [(c.refund_id, c.amount) for c in claims]


async def test_an_order_delivered_again_and_updated_in_its_own_batch_keeps_one_commission(gateway, tenant, sessions):
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = str(new_order_id())
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), int(order_id)), code)
    assert not order.get("refunds")
    updated = copy.deepcopy(order)
    updated["updated_at"] = datetime.now(UTC).isoformat()
    updated["note"] = "gift wrap"

    async with unit_of_work(sessions, tenant.tenant_id) as session:
        first = await orders.apply_delivery(session, tenant.tenant_id, delivery(source, "orders/create", order), CUSTOMERS)
        assert first.kind == "order"
        assert await ledger_of(session, order_id) == ([("commission", "order", 595)], [])
        # The partner's retry (a new delivery id) and an update, in the same transaction.
        await orders.apply_delivery(session, tenant.tenant_id, delivery(source, "orders/create", order), CUSTOMERS)
        await orders.apply_delivery(session, tenant.tenant_id, delivery(source, "orders/updated", updated), CUSTOMERS)
        assert await ledger_of(session, order_id) == ([("commission", "order", 595)], [])

    async with unit_of_work(sessions, tenant.tenant_id) as session:
        assert await ledger_of(session, order_id) == ([("commission", "order", 595)], [])


async def test_a_refund_that_came_first_is_clawed_back_when_its_order_arrives_in_the_same_batch(gateway, tenant, sessions):
    """The order is new to the ledger, but its refund was kept ahead of it: the commission is
    recorded without the ledger's reads, then the refund's clawback (which does read) finds it."""
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    refund = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)

    async with unit_of_work(sessions, tenant.tenant_id) as session:
        assert (await orders.apply_delivery(
            session, tenant.tenant_id, delivery(source, "refunds/create", refund), CUSTOMERS)).kind == "refund"
        assert await ledger_of(session, str(order_id)) == ([], [])  # nothing to claw back from yet
        await orders.apply_delivery(session, tenant.tenant_id, delivery(source, "orders/create", order), CUSTOMERS)
        entries, claims = await ledger_of(session, str(order_id))
        assert entries[0] == ("commission", "order", 595)
        assert [kind for kind, _, _ in entries] == ["commission", "clawback"]
        assert len(claims) == 1 and entries[1][2] < 0


async def test_a_code_used_up_by_the_first_order_of_a_batch_does_not_credit_the_next(gateway, tenant, sessions):
    """A code limited to one order: the batch's first order uses it up, and the second, in the
    same transaction, sees that (nothing of the batch may keep the code's use count from before)."""
    campaign_id, creator_id, _ = await brand_setup(gateway)
    code = f"ONCE{uuid.uuid4().hex[:6].upper()}"
    made = await gateway.post("/v1/attribution/codes", json={
        "campaign_id": campaign_id, "creator_id": creator_id, "code": code, "usage_limit": 1})
    assert made.status_code == 201, made.text
    source = await create_shopify_source(gateway)
    first, second = new_order_id(), new_order_id()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        for order_id in (first, second):
            body = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
            await orders.apply_delivery(session, tenant.tenant_id, delivery(source, "orders/create", body), CUSTOMERS)
        assert (await ledger_of(session, str(first)))[0] == [("commission", "order", 595)]
        assert await ledger_of(session, str(second)) == ([], [])
        decision = (await session.execute(
            select(OrderCredit).join(PartnerOrder, PartnerOrder.id == OrderCredit.order_ref)
            .where(PartnerOrder.order_id == str(second)))).scalar_one()
        assert decision.outcome == "unattributed"
        assert "usage limit of 1 orders was reached" in decision.explanation


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "then-updated"])
async def test_a_cancellation_is_dated_by_its_utc_day_whatever_the_partners_offset(gateway, tenant, sessions, batched):
    """An order whose first message is already cancelled, at 21:30 on the 29th in New York (the
    30th in UTC): its basis explanation names the UTC day, as it does once anything else recomputes
    the order (the stored time comes back in UTC), so the text does not depend on what arrived after."""
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    body = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    body["cancelled_at"] = "2026-11-29T21:30:00-05:00"
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await orders.apply_delivery(session, tenant.tenant_id, delivery(source, "orders/cancelled", body), CUSTOMERS)
        if batched:
            updated = copy.deepcopy(body)
            updated["updated_at"] = datetime.now(UTC).isoformat()
            updated["note"] = "gift wrap"
            await orders.apply_delivery(session, tenant.tenant_id, delivery(source, "orders/updated", updated), CUSTOMERS)
        row = (await session.execute(select(PartnerOrder).where(PartnerOrder.order_id == str(order_id)))).scalar_one()
        assert row.state == "cancelled"
        assert "Cancelled on 2026-11-30: basis 0 USD." in row.basis_explanation, row.basis_explanation
