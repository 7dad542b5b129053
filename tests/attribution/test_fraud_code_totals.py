"""The leaked-code rule's facts read from hour and minute totals (code_hour_totals,
code_minute_totals, kept as each order is credited) must be exactly what counting every credited
order of the lookback one by one gives, by the rule's definition (docs/decisions/0064: the lookback
from the start of the UTC hour 30 days before to the end of the order's minute, the velocity window
from the start of the minute 60 minutes before): checked on the real database against a plain
count, over orders placed at random times across hour and minute boundaries, on the boundaries
themselves, in one busy minute, outside the lookback, after the minute judged, and in another
campaign."""

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from alembic import command

from services.attribution.crediting.models import OrderCredit
from services.attribution.fraud import service as fraud
from services.attribution.orders import batch
from services.attribution.orders.models import PartnerOrder
from shared.db import transaction_memo
from shared.migrations import alembic_config
from tests.attribution.conftest import unit_of_work
from tests.attribution.test_campaign_money_migration import _run, scratch_database  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration

LOOKBACK = timedelta(days=30)


def plain_count(decisions: list[dict], campaign: uuid.UUID, code: uuid.UUID, placed: datetime) -> dict:
    """The facts as the rule defines them, counted order by order."""
    placed = placed.astimezone(UTC)  # hours and minutes are UTC's, whatever the offset the order came with
    since = (placed - LOOKBACK).replace(minute=0, second=0, microsecond=0)  # the start of its UTC hour
    minute = placed.replace(second=0, microsecond=0)
    until, window = minute + timedelta(minutes=1), minute - timedelta(minutes=60)  # the end of the order's minute
    facts = dict(code_orders=0, code_orders_without_click=0, code_new_customers=0, other_orders=0,
                 other_new_customers=0, code_countries={}, other_countries={}, code_orders_last_hour=0)
    for d in decisions:
        if d["campaign"] != campaign or not since <= d["at"] < until:
            continue
        prefix = "code" if d["code"] == code else "other"
        facts[f"{prefix}_orders"] += 1
        facts[f"{prefix}_new_customers"] += d["new"]
        if prefix == "code":
            facts["code_orders_without_click"] += d["without"]
            facts["code_orders_last_hour"] += d["at"] >= window
        if d["country"]:
            countries = facts[f"{prefix}_countries"]
            countries[d["country"]] = countries.get(d["country"], 0) + 1
    facts["code_orders_before_hour"] = facts["code_orders"] - facts["code_orders_last_hour"]
    return facts


async def credit(session, tenant: uuid.UUID, d: dict) -> None:
    order = PartnerOrder(
        id=uuid.uuid4(), tenant_id=tenant, source="generic", source_id=uuid.uuid4(), order_id=uuid.uuid4().hex,
        placed_at=d["at"], currency="USD", lines=[], taxes_included=False, codes=[], click_ids=[], notes=[],
        test=False, state="open", basis_minor=0, basis_before_refunds_minor=0, basis_explanation="",
        last_delivery_id=uuid.uuid4().hex, shipping_country=d["country"])
    session.add(order)
    await session.flush()
    decision = OrderCredit(
        id=uuid.uuid4(), order_ref=order.id, outcome="credited", creator_id=d["creator"], campaign_id=d["campaign"],
        touch_kind="code" if d["code"] else "click", code_id=d["code"], explanation="", placed_at=d["at"],
        new_customer=bool(d["new"]), shipping_country=d["country"], without_creator_click=bool(d["without"]))
    session.add(decision)
    await session.flush()
    await fraud.count_credited(session, tenant, decision)


@pytest.mark.asyncio
@pytest.mark.parametrize("deferred", [0, 1, 0.5], ids=["written", "deferred", "half-deferred"])
async def test_the_facts_from_hour_totals_equal_a_plain_count_of_every_order(sessions, deferred):
    """`deferred`: the share of the orders credited, and all judged, in one transaction whose totals
    wait for its end, as an order batch's do (orders/batch.py); the rest written before it. The facts
    add the waiting totals to what the statement read — read once per code and minute in such a
    transaction, so the half-deferred run checks that memo against totals that are in the database."""
    rng = random.Random(20261128)
    tenant, campaign, elsewhere = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    creator, other_creator = uuid.uuid4(), uuid.uuid4()
    code, other_code = uuid.uuid4(), uuid.uuid4()
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    decisions = []
    for _ in range(240):
        # Random instants over 40 days, a third of them on a whole hour (a boundary of the totals).
        at = now - timedelta(seconds=rng.randrange(0, 40 * 86400))
        if rng.random() < 0.33:
            at = at.replace(minute=0, second=0, microsecond=0)
        which = rng.random()
        code_of, creator_of = ((code, creator) if which < 0.5 else (other_code, other_creator) if which < 0.75
                               else (None, rng.choice([creator, other_creator])))
        decisions.append(dict(at=at, code=code_of, creator=creator_of, campaign=elsewhere if rng.random() < 0.1 else campaign,
                              country=rng.choice(["US", "US", "DE", "FR", None]), new=rng.random() < 0.6,
                              without=rng.random() < 0.4))
    # And a busy hour: forty orders in one hour, judged between them (the order's hour is read from
    # the minute totals up to its minute).
    busy = now - timedelta(hours=5)
    cluster = []
    for _ in range(40):
        at = busy + timedelta(seconds=rng.randrange(0, 3600))
        cluster.append(dict(at=at, code=code if rng.random() < 0.7 else other_code, creator=creator,
                            campaign=campaign, country=rng.choice(["US", "DE", None]), new=rng.random() < 0.5,
                            without=rng.random() < 0.5))
    # And a busy minute inside that hour: orders judged among others placed seconds after them.
    minute = busy + timedelta(minutes=17)
    crowd = [dict(at=minute + timedelta(seconds=rng.randrange(0, 60), microseconds=rng.randrange(0, 10**6)),
                  code=code if rng.random() < 0.6 else other_code, creator=creator, campaign=campaign,
                  country=rng.choice(["US", "FR", None]), new=rng.random() < 0.5, without=rng.random() < 0.5)
             for _ in range(30)]
    decisions += cluster + crowd
    # Moments judged: orders' own times (and so every boundary the orders are on), whole hours,
    # a lookback that starts exactly on an order, and a moment after every order.
    probes = [d["at"] for d in rng.sample(decisions, 25)]
    probes += [now.replace(minute=0) - timedelta(hours=h) for h in (0, 1, 7, 200)]
    probes += [d["at"] + LOOKBACK for d in rng.sample(decisions, 5)] + [now + timedelta(days=3)]
    probes += [d["at"] for d in rng.sample(cluster, 10)] + [busy + timedelta(minutes=m) for m in (0, 1, 59, 61, 90)]
    probes += [d["at"] for d in rng.sample(crowd, 12)] + [minute, minute + timedelta(seconds=59.5),
                                                          minute + timedelta(minutes=60), minute + timedelta(minutes=61)]
    # The same moments as a shop half an hour off UTC gives them (its hours are not UTC's).
    india = timezone(timedelta(hours=5, minutes=30))
    probes += [p.astimezone(india) for p in rng.sample(probes, 12)]

    async def judge(session) -> None:
        for placed in probes:
            judged = SimpleNamespace(code_id=code, campaign_id=campaign)
            found = await fraud._code_facts(session, judged, placed, placed - LOOKBACK)
            assert found == plain_count(decisions, campaign, code, placed), placed

    rng.shuffle(decisions)
    before = decisions[:int(len(decisions) * (1 - deferred))]
    if before:
        async with unit_of_work(sessions, tenant) as session:
            for d in before:
                await credit(session, tenant, d)
    async with unit_of_work(sessions, tenant) as session:
        if deferred:
            transaction_memo(session, batch._DEFERRED)["writes"] = batch.Deferred()
            for d in decisions[len(before):]:
                await credit(session, tenant, d)
            waiting = batch.deferred(session)
            assert sum(n[0] for counts in waiting.minute_totals.values() for n in counts.values()) \
                == len(decisions) - len(before)
        await judge(session)  # deferred: what waits is added from the batch's memo
        if deferred:
            await judge(session)  # and again, each answer's read now from the memo of the first
    # The test means something: the probes saw orders of the code, of others, and none.
    seen = [plain_count(decisions, campaign, code, placed) for placed in probes]
    assert max(s["code_orders"] for s in seen) > 20 and max(s["other_orders"] for s in seen) > 10
    assert any(0 < s["code_orders_last_hour"] for s in seen)
    # ... and moments in the busy minute with orders of the code placed after them in that minute
    # (counted: the spans end with the order's minute).
    assert any(sum(1 for d in crowd if d["code"] == code and d["at"] > placed) >= 3 for placed in probes)


def test_0024_and_0029_count_the_decisions_taken_before_them_into_hour_and_minute_totals(scratch_database):
    """Upgrading a database with credited orders (placed 17 s into a minute): each decision gets the
    country and click fact the rule read then, and the hour and minute totals hold exactly what
    counting those decisions gives."""
    config = alembic_config("attribution", scratch_database)
    command.upgrade(config, "0023")
    tenant, campaign, creator, link, code = (uuid.uuid4() for _ in range(5))
    clicked = uuid.uuid4()
    statements = [
        ("insert into attribution.campaigns (id, name, brand, starts_on, ends_on, currency, tenant_id, budget_minor) "
         "values ($1, 'spring', 'Acme', '2026-11-01', '2026-12-31', 'USD', $2, 0)", campaign, tenant),
        ("insert into attribution.links (id, campaign_id, creator_id, slug, destination, utm, target, window_days, tenant_id) "
         "values ($1, $2, $3, 'abc', 'https://acme.test/', '{}', 'https://acme.test/', 30, $4)", link, campaign, creator, tenant),
        ("insert into attribution.clicks (id, link_id, campaign_id, creator_id, method, flagged, is_unique, tenant_id) "
         "values ($1, $2, $3, $4, 'GET', false, true, $5)", clicked, link, campaign, creator, tenant),
    ]
    # (minutes after 10:00, code or not, carries the creator's click, country, new customer)
    orders = [(5, True, False, "US", True), (59, True, True, "US", False), (60, True, False, None, True),
              (61, False, True, "DE", True), (125, True, False, "DE", False)]
    base = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    for minutes, with_code, with_click, country, new in orders:
        ref = uuid.uuid4()
        statements.append((
            "insert into attribution.orders (id, source, source_id, order_id, placed_at, currency, lines, taxes_included, "
            "codes, click_ids, test, notes, state, basis_minor, basis_before_refunds_minor, basis_explanation, "
            "last_delivery_id, tenant_id, shipping_country) values ($1, 'generic', $2, $3, $4, 'USD', '[]', false, '{}', "
            "$5, false, '{}', 'open', 0, 0, '', 'd', $6, $7)",
            ref, uuid.uuid4(), ref.hex, base + timedelta(minutes=minutes, seconds=17), [str(clicked)] if with_click else [], tenant,
            country))
        statements.append((
            "insert into attribution.order_credits (id, order_ref, outcome, explanation, tenant_id, creator_id, campaign_id, "
            "code_id, placed_at, new_customer) values ($1, $2, 'credited', '', $3, $4, $5, $6, $7, $8)",
            uuid.uuid4(), ref, tenant, creator, campaign, code if with_code else None, base + timedelta(minutes=minutes, seconds=17), new))
    for sql, *args in statements:
        asyncio.run(_run(scratch_database, sql, *args))

    command.upgrade(config, "0024")
    facts = asyncio.run(_run(scratch_database, "select shipping_country, without_creator_click from attribution.order_credits "
                                               "order by placed_at"))
    assert [(r["shipping_country"], r["without_creator_click"]) for r in facts] == [
        (country, not with_click) for _, _, with_click, country, _ in orders]
    totals = asyncio.run(_run(scratch_database, "select code_key, hour, country, orders, without_click, new_customers "
                                                "from attribution.code_hour_totals order by hour, code_key, country"))
    nil = uuid.UUID(int=0)
    assert sorted((r["hour"], r["code_key"], r["country"], r["orders"], r["without_click"], r["new_customers"]) for r in totals) == sorted([
        (base, code, "US", 2, 1, 1),
        (base + timedelta(hours=1), code, "", 1, 1, 1),
        (base + timedelta(hours=1), nil, "DE", 1, 0, 1),
        (base + timedelta(hours=2), code, "DE", 1, 1, 0),
    ])
    # 0029 counts the same decisions per minute.
    command.upgrade(config, "0029")
    minutes = asyncio.run(_run(scratch_database, "select code_key, minute, country, orders, without_click, new_customers "
                                                 "from attribution.code_minute_totals"))
    assert sorted((r["minute"], r["code_key"], r["country"], r["orders"], r["without_click"], r["new_customers"])
                  for r in minutes) == sorted([
        (base + timedelta(minutes=5), code, "US", 1, 1, 1),
        (base + timedelta(minutes=59), code, "US", 1, 0, 0),
        (base + timedelta(minutes=60), code, "", 1, 1, 1),
        (base + timedelta(minutes=61), nil, "DE", 1, 0, 1),
        (base + timedelta(minutes=125), code, "DE", 1, 1, 0),
    ])
    command.downgrade(config, "0023")
