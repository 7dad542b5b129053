"""The ledger through the gateway: entries and balances read back, payouts (idempotent, never
paying an entry twice, a negative net carried as owed), the CSV a finance team pays from, errors
naming their field, tenant isolation and the approval worker. Orders are not consumed yet: the
entries are written with the ledger's service functions, as the order path will write them."""

import asyncio
import csv
import io
import uuid
from datetime import timedelta

import pytest

from shared.db import utcnow
from tests.attribution.conftest import unit_of_work
from tests.attribution.ledger_helpers import commission, order_id, refund
from tests.conftest import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

LEDGER = "/v1/attribution/ledger"
CLAIMS = "/v1/attribution/ledger/claims"
BALANCES = "/v1/attribution/ledger/balances"
PAYOUTS = "/v1/attribution/payouts"
PAST = utcnow() - timedelta(days=1)  # a holding period over
FUTURE = utcnow() + timedelta(days=30)


def fields(response) -> list[str]:
    return [problem["field"] for problem in response.json()["detail"]]


async def entries(client, **params) -> list[dict]:
    response = await client.get(LEDGER, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def balance(client, creator_id, currency: str) -> dict:
    response = await client.get(BALANCES, params={"creator_id": str(creator_id), "currency": currency})
    assert response.status_code == 200, response.text
    [found] = response.json()["items"]
    return found


async def pay(client, creator_id, currency: str = "EUR", **headers):
    return await client.post(PAYOUTS, json={"creator_id": str(creator_id), "currency": currency}, headers=headers)


async def test_entries_page_by_cursor_and_filter(gateway, tenant, sessions):
    creator, campaign = uuid.uuid4(), uuid.uuid4()
    made = []
    for i in range(3):
        async with unit_of_work(sessions, tenant.tenant_id) as session:
            made.append(await commission(session, order_id(), 100 + i, creator_id=creator, hold_until=FUTURE))
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        other = await commission(session, order_id(), 5000, creator_id=creator, campaign_id=campaign,
                                 currency="JPY", hold_until=PAST)
    seen, cursor = [], None
    while True:
        params = {"creator_id": str(creator), "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await gateway.get(LEDGER, params=params)).json()
        seen += page["items"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert [e["id"] for e in seen] == [str(e.id) for e in [*made, other]]
    assert seen[0]["amount"] == 100 and seen[0]["state"] == "pending" and seen[0]["kind"] == "commission"
    assert seen[0]["reason"].startswith("10% of order") and seen[0]["line_key"] == "order"
    assert [e["id"] for e in await entries(gateway, creator_id=str(creator), currency="JPY")] == [str(other.id)]
    assert [e["id"] for e in await entries(gateway, campaign_id=str(campaign))] == [str(other.id)]
    assert len(await entries(gateway, creator_id=str(creator), state="pending")) >= 3


async def test_balances_are_per_currency_and_never_summed_across_them(gateway, tenant, sessions):
    creator = uuid.uuid4()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await commission(session, order_id(), 1250, creator_id=creator, hold_until=FUTURE)
        await commission(session, order_id(), 1250, creator_id=creator, currency="JPY", hold_until=FUTURE)
        await commission(session, order_id(), 99, creator_id=creator, currency="JPY", hold_until=FUTURE)
    items = (await gateway.get(BALANCES, params={"creator_id": str(creator)})).json()["items"]
    assert [(b["currency"], b["pending"], b["approved"], b["paid"], b["owed"]) for b in items] == [
        ("EUR", 1250, 0, 0, 0), ("JPY", 1349, 0, 0, 0),
    ]


async def test_a_payout_pays_the_approved_entries_and_exports_a_csv(gateway, tenant, sessions):
    creator = uuid.uuid4()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        first = await commission(session, order_id(), 1250, creator_id=creator, currency="JPY", hold_until=PAST)
        second = await commission(session, order_id(), 750, creator_id=creator, currency="JPY", hold_until=PAST)
        waiting = await commission(session, order_id(), 40, creator_id=creator, currency="JPY", hold_until=FUTURE)
    made = await pay(gateway, creator, "JPY")
    assert made.status_code == 201, made.text
    payout = made.json()
    assert (payout["amount"], payout["entry_count"], payout["currency"]) == (2000, 2, "JPY")
    assert (await gateway.get(f"{PAYOUTS}/{payout['id']}")).json() == payout
    listed = (await gateway.get(PAYOUTS, params={"creator_id": str(creator)})).json()["items"]
    assert listed == [payout]
    paid = await entries(gateway, payout_id=payout["id"])
    assert sorted(e["id"] for e in paid) == sorted([str(first.id), str(second.id)])
    assert all(e["state"] == "paid" and e["paid_at"] for e in paid)
    assert [e["state"] for e in await entries(gateway, creator_id=str(creator), state="pending")] == ["pending"]
    assert (await balance(gateway, creator, "JPY"))["paid"] == 2000 and waiting.state == "pending"

    exported = await gateway.get(f"{PAYOUTS}/{payout['id']}/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    header, row = list(csv.reader(io.StringIO(exported.text)))
    assert header == ["creator_id", "currency", "amount", "amount_minor", "entry_count", "payout_id", "created_on"]
    assert row == [str(creator), "JPY", "2000", "2000", "2", payout["id"], payout["created_at"][:10]]


async def test_the_csv_writes_the_amount_with_the_currencys_decimals(gateway, tenant, sessions):
    creator = uuid.uuid4()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await commission(session, order_id(), 1205, creator_id=creator, currency="BHD", hold_until=PAST)
    payout = (await pay(gateway, creator, "BHD")).json()
    row = list(csv.reader(io.StringIO((await gateway.get(f"{PAYOUTS}/{payout['id']}/export.csv")).text)))[1]
    assert row[1:4] == ["BHD", "1.205", "1205"]


async def test_a_retried_payout_with_an_idempotency_key_pays_once(gateway, tenant, sessions):
    creator = uuid.uuid4()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await commission(session, order_id(), 500, creator_id=creator, hold_until=PAST)
    key = f"payout-{uuid.uuid4()}"
    first = await pay(gateway, creator, **{"Idempotency-Key": key})
    again = await pay(gateway, creator, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len((await gateway.get(PAYOUTS, params={"creator_id": str(creator)})).json()["items"]) == 1


async def test_concurrent_payouts_never_pay_an_entry_twice(gateway, tenant, sessions):
    creator = uuid.uuid4()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        for amount in (100, 200, 300):
            await commission(session, order_id(), amount, creator_id=creator, hold_until=PAST)
    answers = await asyncio.gather(*(pay(gateway, creator) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    [made] = [a.json() for a in answers if a.status_code == 201]
    assert made["amount"] == 600 and made["entry_count"] == 3
    paid = await entries(gateway, creator_id=str(creator))
    assert {e["payout_id"] for e in paid} == {made["id"]}
    assert (await balance(gateway, creator, "EUR"))["paid"] == 600


async def test_a_clawback_after_payout_is_owed_and_deducted_from_the_next_payout(gateway, tenant, sessions):
    creator, order = uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await commission(session, order, 1000, creator_id=creator, hold_until=PAST)
    assert (await pay(gateway, creator)).status_code == 201
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await refund(session, order, "refund-1", 1500)
    owed = await pay(gateway, creator)
    assert owed.status_code == 409 and fields(owed) == ["body.creator_id"] and "owed" in owed.text

    async def owed_balance() -> dict:
        # The refused payout approved nothing (its transaction rolled back): the worker approves the clawback.
        found = await balance(gateway, creator, "EUR")
        return found if found["owed"] else {}

    assert await eventually(owed_balance) | {"creator_id": None} == {
        "creator_id": None, "currency": "EUR", "pending": 0, "approved": 0, "owed": 1000, "paid": 1000, "entry_count": 2,
    }
    [clawback] = await entries(gateway, creator_id=str(creator), state="approved")
    assert clawback["amount"] == -1000 and "capped" in clawback["reason"] and clawback["refund_id"] == "refund-1"
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await commission(session, order_id(), 2500, creator_id=creator, hold_until=PAST)
    net = await pay(gateway, creator)
    assert net.status_code == 201 and (net.json()["amount"], net.json()["clawback_total"]) == (1500, -1000)
    assert (await balance(gateway, creator, "EUR"))["owed"] == 0


async def test_the_approval_worker_approves_entries_whose_hold_has_ended(gateway, tenant, sessions):
    creator = uuid.uuid4()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        due = await commission(session, order_id(), 100, creator_id=creator, hold_until=PAST)
        await commission(session, order_id(), 100, creator_id=creator, hold_until=FUTURE)

    async def approved() -> bool:
        return [e["id"] for e in await entries(gateway, creator_id=str(creator), state="approved")] == [str(due.id)]

    await eventually(approved)
    assert len(await entries(gateway, creator_id=str(creator), state="pending")) == 1


async def test_a_refund_waiting_for_its_commission_is_shown_with_what_is_outstanding(gateway, tenant, sessions):
    order, creator = order_id(), uuid.uuid4()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await refund(session, order, "refund-1", 700)
    [claim] = (await gateway.get(CLAIMS, params={"order_id": order})).json()["items"]
    assert (claim["refund_id"], claim["amount"], claim["clawed_back"], claim["outstanding"]) == ("refund-1", 700, 0, 700)
    assert await entries(gateway, order_id=order) == []
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await commission(session, order, 500, creator_id=creator, hold_until=FUTURE)
    [claim] = (await gateway.get(CLAIMS, params={"order_id": order})).json()["items"]
    assert (claim["clawed_back"], claim["outstanding"]) == (500, 200)
    story = await entries(gateway, order_id=order, source="shopify:acme.myshopify.com")
    assert [(e["kind"], e["amount"]) for e in story] == [("commission", 500), ("clawback", -500)]
    assert "capped" in story[1]["reason"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"currency": "EUR"}, "body.creator_id"),
        ({"creator_id": "not-a-uuid", "currency": "EUR"}, "body.creator_id"),
        ({"creator_id": str(uuid.uuid4()), "currency": "eur"}, "body.currency"),
        ({"creator_id": str(uuid.uuid4()), "currency": "XAU"}, "body.currency"),
        ({"creator_id": str(uuid.uuid4())}, "body.currency"),
        ({"creator_id": str(uuid.uuid4()), "currency": "EUR", "amount": 5}, "body.amount"),
    ],
)
async def test_a_bad_payout_request_is_refused_naming_the_field(gateway, body, field):
    response = await gateway.post(PAYOUTS, json=body)
    assert response.status_code == 422, response.text
    assert field in fields(response), response.text


async def test_a_payout_with_nothing_approved_is_a_conflict_naming_the_creator(gateway):
    response = await pay(gateway, uuid.uuid4())
    assert response.status_code == 409 and fields(response) == ["body.creator_id"]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (LEDGER, {"state": "refunded"}, "query.state"),
        (LEDGER, {"currency": "eur"}, "query.currency"),
        (LEDGER, {"creator_id": "maya"}, "query.creator_id"),
        (LEDGER, {"cursor": "not-a-cursor"}, "query.cursor"),
        (LEDGER, {"limit": 0}, "query.limit"),
        (LEDGER, {"order_id": ""}, "query.order_id"),
        (LEDGER, {"order_id": "a\x00b"}, "query.order_id"),
        (CLAIMS, {"source": "x" * 101}, "query.source"),
        (CLAIMS, {"cursor": "x"}, "query.cursor"),
        (BALANCES, {"currency": "EURO"}, "query.currency"),
        (BALANCES, {"cursor": "x"}, "query.cursor"),
        (PAYOUTS, {"creator_id": "1"}, "query.creator_id"),
        (f"{PAYOUTS}/not-an-id", {}, "path.payout_id"),
        (f"{PAYOUTS}/not-an-id/export.csv", {}, "path.payout_id"),
    ],
)
async def test_bad_reads_are_refused_naming_the_field(gateway, path, params, field):
    response = await gateway.get(path, params=params)
    assert response.status_code == 422, response.text
    assert field in fields(response), response.text


async def test_an_unknown_payout_is_a_404(gateway):
    for path in (f"{PAYOUTS}/{uuid.uuid4()}", f"{PAYOUTS}/{uuid.uuid4()}/export.csv"):
        assert (await gateway.get(path)).status_code == 404


async def test_another_tenant_sees_nothing_of_a_tenants_ledger_and_cannot_pay_it(gateway, other_gateway, tenant, sessions):
    creator = uuid.uuid4()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await commission(session, order_id(), 100, creator_id=creator, hold_until=PAST)
        await commission(session, order_id(), 200, creator_id=creator, hold_until=PAST)
    payout = (await pay(gateway, creator)).json()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await commission(session, order_id(), 300, creator_id=creator, hold_until=PAST)
    assert await entries(other_gateway, creator_id=str(creator)) == []
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await refund(session, order := order_id(), "refund-1", 10)
    assert (await other_gateway.get(CLAIMS, params={"order_id": order})).json()["items"] == []
    assert len((await gateway.get(CLAIMS, params={"order_id": order})).json()["items"]) == 1
    assert (await other_gateway.get(BALANCES, params={"creator_id": str(creator)})).json()["items"] == []
    assert (await other_gateway.get(PAYOUTS, params={"creator_id": str(creator)})).json()["items"] == []
    for path in (f"{PAYOUTS}/{payout['id']}", f"{PAYOUTS}/{payout['id']}/export.csv"):
        assert (await other_gateway.get(path)).status_code == 404
    assert (await pay(other_gateway, creator)).status_code == 409
    assert (await balance(gateway, creator, "EUR"))["paid"] == 300
    assert len(await entries(gateway, creator_id=str(creator), state="paid")) == 2
