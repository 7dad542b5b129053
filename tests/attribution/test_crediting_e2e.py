"""A brand's whole money path through the gateway: a campaign, a creator enrolled, a commission
rule, the creator's code; a signed Shopify order using the code is credited to the creator, its
commission computed under the rule and written to the ledger; a refund claws back its share;
deliveries repeated change nothing; an order with no touch is unattributed, and says why."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, order_named, with_order_id
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

DATA = Path(__file__).parent / "data" / "shopify"
A = "/v1/attribution"


def fixture(name: str) -> dict:
    return json.loads((DATA / name).read_text())


async def brand_setup(gateway) -> tuple[str, str, str]:
    """A USD campaign, an affiliate creator on it, a 10 % rule, the creator's code: (campaign, creator, code)."""
    campaign = await gateway.post(f"{A}/campaigns", json={
        "name": f"credit-{uuid.uuid4().hex[:6]}", "brand": "Acme", "starts_on": "2026-11-01", "ends_on": "2027-12-31",
        "budget": 1_000_000, "currency": "USD"})
    assert campaign.status_code == 201, campaign.text
    campaign_id, creator_id = campaign.json()["id"], str(uuid.uuid4())
    enrolled = await gateway.post(f"{A}/campaigns/{campaign_id}/creators",
                                  json={"creator_id": creator_id, "deal_type": "affiliate", "fee": 0, "product_value": 0})
    assert enrolled.status_code == 201, enrolled.text
    rule = await gateway.post(f"{A}/campaigns/{campaign_id}/rules", json={"percent": "10", "holding_days": 30})
    assert rule.status_code == 201, rule.text
    code = f"MAYA{uuid.uuid4().hex[:6].upper()}"
    made = await gateway.post(f"{A}/codes", json={"campaign_id": campaign_id, "creator_id": creator_id, "code": code})
    assert made.status_code == 201, made.text
    return campaign_id, creator_id, code


def placed_now(data: dict, code: str | None) -> dict:
    """The order placed a minute from now (after the rule took effect), using `code`."""
    at = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    data["created_at"] = data["updated_at"] = at
    data["discount_codes"] = [{"code": code.lower(), "amount": "10.50", "type": "percentage"}] if code else []
    data["landing_site"] = "/products/black-tee"
    data["note_attributes"] = []
    return data


async def decided(gateway, order_id) -> dict:
    """The order once its credit decision is taken, read back through the gateway."""
    async def found():
        order = await order_named(gateway, str(order_id))
        return order if order and order["credit"] else None

    return await eventually(found)


async def entries(gateway, order_id: str) -> list[dict]:
    response = await gateway.get(f"{A}/ledger", params={"order_id": order_id, "limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_an_order_with_a_creators_code_earns_a_commission_and_a_refund_claws_back_its_share(gateway, anonymous):
    campaign_id, creator_id, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    await deliver_shopify(anonymous, source, "orders/create", order)

    credit = (await decided(gateway, order_id))["credit"]
    assert credit["outcome"] == "credited" and credit["creator_id"] == creator_id and credit["campaign_id"] == campaign_id
    assert credit["touch"] == f"code {code.lower()}" and credit["currency"] == "USD"
    assert credit["explanation"].startswith(f"credited to creator {creator_id}: code {code.lower()} used at checkout")
    assert credit["commission_minor"] == 595  # 10 % of the basis 59.50 USD
    [commission] = await eventually(lambda: entries(gateway, str(order_id)))
    assert (commission["kind"], commission["amount"], commission["state"], commission["creator_id"]) == (
        "commission", 595, "pending", creator_id)

    # One of the two tees comes back: the commission falls to 10 % of 38.25 = 3.82 (line by line:
    # 2.12 + 1.70), so 2.13 is clawed back. The order and the refund delivered twice change nothing.
    refund = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)
    refund["id"] = new_order_id()
    for _ in range(2):
        await deliver_shopify(anonymous, source, "refunds/create", refund)
        await deliver_shopify(anonymous, source, "orders/updated", order)

    async def clawed():
        listed = await entries(gateway, str(order_id))
        return listed if len(listed) == 2 else None

    listed = await eventually(clawed)
    marker = new_order_id()  # one source's deliveries are applied in order: past the marker, all were
    await deliver_shopify(anonymous, source, "orders/create", placed_now(
        with_order_id(fixture("orders-create-usd-code-and-click.json"), marker), None))
    await eventually(lambda: order_named(gateway, str(marker)))
    listed = await entries(gateway, str(order_id))
    assert sorted((e["kind"], e["amount"]) for e in listed) == [("clawback", -213), ("commission", 595)]
    code_row = (await gateway.get(f"{A}/codes", params={"campaign_id": campaign_id})).json()["items"]
    assert [c["uses"] for c in code_row if c["code"] == code] == [1]  # counted once, not per delivery


async def test_an_order_without_a_touch_is_unattributed_and_says_why(gateway, anonymous):
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    await deliver_shopify(anonymous, source, "orders/create",
                          placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), None))

    credit = (await decided(gateway, order_id))["credit"]
    assert credit["outcome"] == "unattributed" and credit["creator_id"] is None and credit["commission_minor"] == 0
    assert credit["explanation"].startswith("unattributed: the order carried no affiliate code")
    assert await entries(gateway, str(order_id)) == []


async def test_a_cancelled_order_claws_back_all_of_its_commission(gateway, anonymous):
    _, creator_id, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    await deliver_shopify(anonymous, source, "orders/create", order)
    await eventually(lambda: entries(gateway, str(order_id)))
    cancelled = dict(order, cancelled_at=(datetime.now(UTC) + timedelta(minutes=2)).isoformat(),
                     updated_at=(datetime.now(UTC) + timedelta(minutes=2)).isoformat(), financial_status="voided")
    await deliver_shopify(anonymous, source, "orders/cancelled", cancelled)

    async def net_zero():
        listed = await entries(gateway, str(order_id))
        return listed if len(listed) == 2 else None

    listed = await eventually(net_zero)
    assert sum(e["amount"] for e in listed) == 0 and {e["creator_id"] for e in listed} == {creator_id}


async def events_for(platform, topic: str, key: str) -> list[dict]:
    """Every envelope on `topic` keyed by `key`, in offset order (all partitions, up to their end now)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from shared.contracts.catalog import CATALOG

    partitions = next(t.partitions for t in CATALOG if t.name == topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.s.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        first, end = await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
        found = []
        for tp in tps:
            consumer.seek(tp, first[tp])
            while await consumer.position(tp) < end[tp]:
                batch = await consumer.getmany(tp, timeout_ms=2000)
                found += [r for r in batch.get(tp, []) if r.offset < end[tp] and r.key == key.encode()]
        return [json.loads(r.value) for r in found]
    finally:
        await consumer.stop()


async def test_credits_and_reversals_are_published_with_the_creators_sales_record(gateway, anonymous, platform):
    _, creator_id, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    await deliver_shopify(anonymous, source, "orders/create", order)
    refund = with_order_id(fixture("refunds-create-usd-partial.json"), order_id)
    refund["id"] = new_order_id()
    await deliver_shopify(anonymous, source, "refunds/create", refund)
    await deliver_shopify(anonymous, source, "refunds/create", refund)  # again: no second reversal

    async def both():
        found = await order_named(gateway, str(order_id))
        if not found:
            return None
        events = await events_for(platform, "attribution.conversion.v1", found["id"])
        return events if len(events) >= 2 else None

    events = await eventually(both)
    await eventually(lambda: _settled(gateway, order_id))
    assert [(e["event_type"], e["payload"]["commission_minor"]) for e in events] == [
        ("ConversionAttributed", 595), ("ConversionReversed", -213)]
    assert {e["payload"]["creator_id"] for e in events} == {creator_id}
    # The record is published once per round of the performance worker, so the first one may
    # show the order before its refund; the last one shows everything.
    async def final_record():
        records = await events_for(platform, "attribution.performance.v1", creator_id)
        last = records[-1]["payload"] if records else None
        return last if last and last["commission_minor"] == 382 else None

    last = await eventually(final_record)
    assert (last["orders"], last["revenue_minor"], last["commission_minor"], last["currency"]) == (1, 3825, 382, "USD")


async def _settled(gateway, order_id) -> bool:
    listed = await entries(gateway, str(order_id))
    return len(listed) == 2


async def test_a_test_order_is_stored_but_never_credited_nor_counted(gateway, anonymous):
    """Found trying real Shopify payloads: an order placed through the shop's test payment
    gateway (`test: true`) earned a commission. It is stored and explained, never credited: no
    ledger entry, no use of the code."""
    campaign_id, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    shopper = f"shopper-{uuid.uuid4().hex[:8]}@example.com"  # a customer with no other order in the suite
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code) | {"test": True, "email": shopper}
    await deliver_shopify(anonymous, source, "orders/create", order)

    found = await decided(gateway, order_id)
    credit = found["credit"]
    assert found["test"] is True and credit["outcome"] == "unattributed" and credit["commission_minor"] == 0
    assert credit["explanation"].startswith("Not credited: a test order") and f"code {code.lower()}" in credit["explanation"]
    assert await entries(gateway, str(order_id)) == []
    codes = (await gateway.get(f"{A}/codes", params={"campaign_id": campaign_id})).json()["items"]
    assert [c["uses"] for c in codes if c["code"] == code] == [0]
    # The same customer's first real order, placed after it, is still a new customer's.
    real_id = new_order_id()
    real = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), real_id), code)
    real["created_at"] = real["updated_at"] = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    real["email"] = shopper
    await deliver_shopify(anonymous, source, "orders/create", real)
    credit = (await decided(gateway, real_id))["credit"]
    assert credit["outcome"] == "credited" and credit["new_customer"] is True, credit


async def test_a_refund_of_money_alone_in_the_customers_currency_is_stored_and_its_order_still_updates(gateway, anonymous):
    """Found trying real Shopify payloads: on an order the customer paid in EUR in a USD shop, a
    refund of money alone (no line items, a USD shop-money adjustment, an EUR transaction) was
    dead-lettered, and so was every later update of the order (which repeats its refunds): its
    cancellation never arrived. Now the refund is read in shop money, lowers the basis (10.00 of
    the 69.26 paid: 59.50 falls by 8.59 to 50.91), and the cancellation that follows lands."""
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    order_id = new_order_id()
    order = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    order["presentment_currency"] = "EUR"
    await deliver_shopify(anonymous, source, "orders/create", order)
    await eventually(lambda: entries(gateway, str(order_id)))
    refund = {
        "id": new_order_id(), "order_id": order_id, "created_at": (datetime.now(UTC) + timedelta(minutes=2)).isoformat(),
        "refund_line_items": [], "transactions": [{"id": 1, "kind": "refund", "status": "success", "amount": "9.20", "currency": "EUR"}],
        "order_adjustments": [{"id": 1, "kind": "refund_discrepancy", "amount": "-10.00", "amount_set": {
            "shop_money": {"amount": "-10.00", "currency_code": "USD"}, "presentment_money": {"amount": "-9.20", "currency_code": "EUR"}}}],
    }
    await deliver_shopify(anonymous, source, "refunds/create", refund)

    async def refunded():
        found = await order_named(gateway, str(order_id))
        return found if found["basis_minor"] == 5091 else None

    await eventually(refunded)
    # The order again, as Shopify sends its cancellation: with the refund inside it.
    later = (datetime.now(UTC) + timedelta(minutes=3)).isoformat()
    await deliver_shopify(anonymous, source, "orders/cancelled", dict(order, refunds=[refund], cancelled_at=later, updated_at=later))

    async def cancelled():
        found = await order_named(gateway, str(order_id))
        return found if found["state"] == "cancelled" else None

    found = await eventually(cancelled)
    assert found["basis_minor"] == 0
    listed = await eventually(lambda: _net_zero(gateway, order_id))
    assert sum(e["amount"] for e in listed) == 0


async def _net_zero(gateway, order_id) -> list[dict] | None:
    listed = await entries(gateway, str(order_id))
    return listed if listed and sum(e["amount"] for e in listed) == 0 else None
