"""Data-subject requests for a shopper, through the gateway on real Kafka and PostgreSQL: the
workspace's `POST /v1/privacy/requests` and a Shopify store's customers/redact, shop/redact and
customers/data_request webhooks. The orders keep their money (the ledger and the report do not
move) and lose what identifies the person; each request leaves one receipt, however often it is
delivered (docs/decisions/0054)."""

import uuid

import pytest

from services.attribution.privacy import shopify as privacy_webhooks
from services.attribution.privacy.retention import forget_old_clicks
from tests.attribution.test_click_redirect import attribution_db, click, click_id, link, clicked  # noqa: F401 (fixture)
from tests.attribution.test_crediting_e2e import brand_setup, entries, fixture, placed_now
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, order_named, with_order_id
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_shopify_source

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

REQUESTS = "/v1/privacy/requests"
RECEIPTS = "/v1/attribution/privacy/receipts"


async def credited_order(gateway, anonymous, source, code: str, email: str | None, customer_id: int) -> tuple[str, dict]:
    order_id = new_order_id()
    data = placed_now(with_order_id(fixture("orders-create-usd-code-and-click.json"), order_id), code)
    data["email"] = email
    data["customer"] = {"id": customer_id, "email": email}
    data["landing_site"] = "/products/black-tee?utm_source=instagram&ll_click=c_not_a_click"
    data["shipping_address"] = {"country_code": "US", "province_code": "CA"}
    await deliver_shopify(anonymous, source, "orders/create", data)

    async def credited():
        found = await order_named(gateway, str(order_id))
        return found if found and found["credit"] and await entries(gateway, str(order_id)) else None

    return str(order_id), await eventually(credited)


async def receipt(gateway, request_id: str) -> dict:
    async def done():
        answer = await gateway.get(f"{RECEIPTS}/{request_id}")
        return answer.json() if answer.status_code == 200 else None

    return await eventually(done)


async def report_money(gateway, campaign_id: str) -> list:
    answer = await gateway.get(f"/v1/attribution/campaigns/{campaign_id}/report")
    assert answer.status_code == 200, answer.text
    return answer.json()["money"]


async def test_a_customers_erasure_keeps_the_money_and_removes_the_person(gateway, anonymous, other_gateway):
    campaign_id, creator_id, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    first, before = await credited_order(gateway, anonymous, source, code, email, 7100000000001)
    second, _ = await credited_order(gateway, anonymous, source, code, email.upper(), 7100000000001)
    other, _ = await credited_order(gateway, anonymous, source, code, f"bo-{uuid.uuid4().hex[:8]}@example.com", 7100000000002)
    # The shopper is also registered as the creator's own customer (self-referral): that goes too.
    registered = await gateway.post(f"/v1/attribution/creators/{creator_id}/customer-keys", json={"email": email})
    assert registered.status_code == 201, registered.text
    ledger_before = {o: await entries(gateway, o) for o in (first, second, other)}
    money_before = await report_money(gateway, campaign_id)

    made = await gateway.post(REQUESTS, json={"kind": "erasure", "subject": {"type": "customer", "email": email}})
    assert made.status_code == 202, made.text
    request = made.json()
    assert request["subject_hint"].startswith("a***@example.com") and email not in made.text

    done = await receipt(gateway, request["id"])
    actions = {a["what"]: a for a in done["actions"]}
    assert (actions["orders"]["done"], actions["orders"]["count"]) == ("anonymised", 2)
    assert actions["registrations as a creator's own customer"]["count"] == 1
    assert actions["commission ledger entries of those orders"]["done"] == "kept"
    assert done["export"] is None and done["origin"] == "api"

    for order_id in (first, second):
        after = await order_named(gateway, order_id)
        assert after["customer_key"] is None and after["landing_site"] is None and after["shipping_region"] is None
        assert (after["basis_minor"], after["total_minor"], after["state"], after["shipping_country"]) == (
            before["basis_minor"], before["total_minor"], before["state"], "US")
    assert (await order_named(gateway, other))["customer_key"] is not None  # another shopper is untouched
    assert {o: await entries(gateway, o) for o in (first, second, other)} == ledger_before
    assert await report_money(gateway, campaign_id) == money_before

    # Delivered again (a redelivery of the event): nothing changes, one receipt.
    listed = (await gateway.get(RECEIPTS)).json()["items"]
    assert [r["request_id"] for r in listed].count(request["id"]) == 1
    # Another workspace sees neither the request nor the receipt.
    assert (await other_gateway.get(f"{REQUESTS}/{request['id']}")).status_code == 404
    assert (await other_gateway.get(f"{RECEIPTS}/{request['id']}")).status_code == 404


async def test_a_customers_export_lists_their_orders(gateway, anonymous):
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    # An order with no e-mail is keyed by Shopify's customer id (one with an e-mail, by the e-mail).
    order_id, _ = await credited_order(gateway, anonymous, source, code, None, 7100000000003)
    made = await gateway.post(REQUESTS, json={"kind": "export", "subject": {
        "type": "customer", "customer_id": "7100000000003", "source": "shopify"}})
    assert made.status_code == 202, made.text
    done = await receipt(gateway, made.json()["id"])
    assert done["kind"] == "export"
    [exported] = [o for o in done["export"]["orders"] if o["order_id"] == order_id]
    assert exported["currency"] == "USD" and exported["codes"] == [code.lower()] and exported["shipping_region"] == "US-CA"
    assert (await order_named(gateway, order_id))["customer_key"] is not None  # an export changes nothing


async def test_shopifys_privacy_webhooks_are_honoured_once(gateway, anonymous):
    _, _, code = await brand_setup(gateway)
    source = await create_shopify_source(gateway)
    email = f"di-{uuid.uuid4().hex[:8]}@example.com"
    kept_id, _ = await credited_order(gateway, anonymous, source, code, f"eve-{uuid.uuid4().hex[:8]}@example.com", 7100000000005)
    order_id, _ = await credited_order(gateway, anonymous, source, code, email, 7100000000004)
    shop = {"shop_id": 954889, "shop_domain": source.shop_domain}

    request = {**shop, "customer": {"id": 7100000000004, "email": email, "phone": None},
               "orders_requested": [int(order_id)], "data_request": {"id": 9999}}
    asked = str(uuid.uuid4())
    await deliver_shopify(anonymous, source, "customers/data_request", request, webhook_id=asked)
    redact = {**shop, "customer": {"id": 7100000000004, "email": email, "phone": None}, "orders_to_redact": [int(order_id)]}
    redacted = str(uuid.uuid4())
    for _ in range(2):  # Shopify retries: the same delivery id again is one request
        await deliver_shopify(anonymous, source, "customers/redact", redact, webhook_id=redacted)

    # Each webhook's request id is derived from its store and delivery id (privacy/shopify.py).
    export = await receipt(gateway, str(uuid.uuid5(privacy_webhooks.NAMESPACE, f"{source.id}:{asked}")))
    assert export["origin"] == "shopify" and export["kind"] == "export"
    assert [o["order_id"] for o in export["export"]["orders"]] == [order_id]
    erasure = await receipt(gateway, str(uuid.uuid5(privacy_webhooks.NAMESPACE, f"{source.id}:{redacted}")))
    assert erasure["kind"] == "erasure" and {a["what"]: a["count"] for a in erasure["actions"]}["orders"] == 1
    listed = (await gateway.get(RECEIPTS, params={"limit": 200})).json()["items"]
    assert [r["request_id"] for r in listed].count(erasure["request_id"]) == 1
    assert (await order_named(gateway, order_id))["customer_key"] is None
    assert (await order_named(gateway, kept_id))["customer_key"] is not None

    # shop/redact, 48 hours after an uninstall: every customer of that store.
    await deliver_shopify(anonymous, source, "shop/redact", shop, webhook_id=str(uuid.uuid4()))
    await eventually(lambda: _anonymised(gateway, kept_id))


async def _anonymised(gateway, order_id: str) -> bool:
    return (await order_named(gateway, order_id))["customer_key"] is None


async def test_bad_requests_are_refused_with_the_field(gateway, other_gateway):
    cases = [
        ({"kind": "erasure", "subject": {"type": "customer"}}, "body.subject.email"),
        ({"kind": "erasure", "subject": {"type": "customer", "email": "not-an-email"}}, "body.subject.email"),
        ({"kind": "forget", "subject": {"type": "customer", "email": "a@example.com"}}, "body.kind"),
        ({"kind": "export", "subject": {"type": "customer", "email": "a@example.com", "creator_id": str(uuid.uuid4())}},
         "body.subject.creator_id"),
        ({"kind": "export", "subject": {"type": "customer", "email": "a@example.com", "extra": 1}}, "body.subject.extra"),
    ]
    for body, field in cases:
        answer = await gateway.post(REQUESTS, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert any(d["field"] == field for d in answer.json()["detail"]), (field, answer.text)
    # A creator's data is the installation's: only the operator workspace asks for it.
    refused = await gateway.post(REQUESTS, json={"kind": "erasure", "subject": {"type": "creator", "creator_id": str(uuid.uuid4())}})
    assert refused.status_code == 403, refused.text
    assert (await gateway.get(f"{REQUESTS}/{uuid.uuid4()}")).status_code == 404
    # A method the route does not take is a 405 saying which it does, not the proxy's 404.
    wrong = await gateway.put(REQUESTS, json={})
    assert wrong.status_code == 405 and set(wrong.headers["allow"].split(", ")) == {"GET", "POST"}


async def test_the_retention_job_strips_old_clicks_and_reports_do_not_move(gateway, anonymous, attribution_db, sessions):
    made = await link(gateway)
    campaign_id = made["campaign_id"]
    ids = [str(clicked(click_id(await click(anonymous, made["slug"])))),
           str(clicked(click_id(await click(anonymous, made["slug"], **{"User-Agent": "Slackbot 1.0"}))))]
    fresh = str(clicked(click_id(await click(anonymous, made["slug"]))))
    # Two of them were made 200 days ago (the report totals follow the move: migration 0022's triggers).
    await attribution_db.execute(
        "UPDATE attribution.clicks SET clicked_at = clicked_at - interval '200 days' WHERE id = ANY($1::uuid[])", ids)
    report = (await gateway.get(f"/v1/attribution/campaigns/{campaign_id}/report")).json()["clicks"]

    stripped = await forget_old_clicks(sessions, 180)
    assert stripped >= 2
    rows = {str(r["id"]): r for r in await attribution_db.fetch(
        "SELECT id, visitor_hash, network_hash, user_agent, referrer, is_unique, flagged FROM attribution.clicks"
        " WHERE id = ANY($1::uuid[])", ids + [fresh])}
    for old in ids:
        assert (rows[old]["visitor_hash"], rows[old]["network_hash"], rows[old]["user_agent"]) == (None, None, None)
    assert rows[fresh]["visitor_hash"] is not None and rows[fresh]["user_agent"] is not None
    assert (await gateway.get(f"/v1/attribution/campaigns/{campaign_id}/report")).json()["clicks"] == report
    assert await forget_old_clicks(sessions, 180) == 0  # done once
