"""The reports' running totals (migration 0022, ADR 0051) against the rows they summarise.

The triggers (a delta per write) and `attribution.report_recomputed()` (set-based, from the rows)
are two independent ways to the same figures: after every step of an order's life, written in
SQL in every order the service could write it (ledger lines before and after their credit, state
steps, refunds, a cancellation, a credit moved to another creator, clicks flagged later), and under
concurrent writers with the folding worker running, they must agree to the unit. The last test
checks the whole database the suite has written so far (every flow of every earlier test)."""

import asyncio
import copy
import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest
import pytest_asyncio

from services.attribution.reports.models import FIGURES

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

KEYS = "campaign_id, creator_id, platform, day, currency"
SUMS = ", ".join(f"sum({f})::bigint AS {f}" for f in FIGURES)
NONZERO = " OR ".join(f"sum({f}) <> 0" for f in FIGURES)

# The totals as a report sees them (folded and not), and as the rows say they should be, for one
# tenant; in one statement each, so one snapshot.
KEPT = f"""
SELECT {KEYS}, {SUMS} FROM (
    SELECT {KEYS}, {", ".join(FIGURES)} FROM attribution.report_totals WHERE tenant_id = $1
    UNION ALL
    SELECT {KEYS}, {", ".join(FIGURES)} FROM attribution.report_deltas WHERE tenant_id = $1) t
GROUP BY {KEYS} HAVING {NONZERO}
"""
RECOMPUTED = f"SELECT {KEYS}, {', '.join(FIGURES)} FROM attribution.report_recomputed() WHERE tenant_id = $1"
# Both at once, across every tenant: the rows on one side only.
DIFFERENCE = f"""
WITH kept AS (
    SELECT tenant_id, {KEYS}, {SUMS} FROM (
        SELECT tenant_id, {KEYS}, {", ".join(FIGURES)} FROM attribution.report_totals
        UNION ALL
        SELECT tenant_id, {KEYS}, {", ".join(FIGURES)} FROM attribution.report_deltas) t
    GROUP BY tenant_id, {KEYS} HAVING {NONZERO}),
recomputed AS (SELECT * FROM attribution.report_recomputed())
(SELECT 'kept' AS side, * FROM kept EXCEPT SELECT 'kept', * FROM recomputed)
UNION ALL
(SELECT 'recomputed', * FROM recomputed EXCEPT SELECT 'recomputed', * FROM kept)
"""


async def _compare(connection, tenant_id) -> list:
    kept = {tuple(r.values()) for r in await connection.fetch(KEPT, tenant_id)}
    recomputed = {tuple(r.values()) for r in await connection.fetch(RECOMPUTED, tenant_id)}
    assert kept == recomputed, {"only kept": kept - recomputed, "only recomputed": recomputed - kept}
    return sorted(recomputed, key=repr)


@pytest_asyncio.fixture
async def db(service_dsn):
    connection = await asyncpg.connect(service_dsn("attribution"))
    yield connection
    await connection.close()


class Shop:
    """One tenant's campaign, creators, a code and a link, written in SQL."""

    def __init__(self, connection):
        self.c = connection
        self.tenant, self.campaign, self.source = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        self.maya, self.noor = uuid.uuid4(), uuid.uuid4()
        self.code, self.link = uuid.uuid4(), uuid.uuid4()

    async def create(self):
        await self.c.execute(
            "INSERT INTO attribution.campaigns (id, tenant_id, name, brand, starts_on, ends_on, budget_minor, currency,"
            " status) VALUES ($1, $2, 'totals', 'Acme', '2026-01-01', '2026-12-31', 100000, 'USD', 'active')",
            self.campaign, self.tenant)
        await self.c.execute(
            "INSERT INTO attribution.codes (id, tenant_id, campaign_id, creator_id, code, origin, platform)"
            " VALUES ($1, $2, $3, $4, $5, 'chosen', 'tiktok')", self.code, self.tenant, self.campaign, self.maya,
            f"TOT{uuid.uuid4().hex[:8]}".upper())
        await self.c.execute(
            "INSERT INTO attribution.links (id, tenant_id, campaign_id, creator_id, slug, destination, utm, target,"
            " window_days, platform) VALUES ($1, $2, $3, $4, $5, 'https://shop.example/p', '{}',"
            " 'https://shop.example/p', 30, 'youtube')", self.link, self.tenant, self.campaign, self.noor,
            uuid.uuid4().hex[:16])
        return self

    async def order(self, order_id: str, placed: datetime, basis: int, currency: str = "USD") -> uuid.UUID:
        ref = uuid.uuid4()
        await self.c.execute(
            "INSERT INTO attribution.orders (id, tenant_id, source, source_id, order_id, placed_at, currency, lines,"
            " taxes_included, codes, click_ids, test, notes, state, basis_minor, basis_before_refunds_minor,"
            " basis_explanation, last_delivery_id) VALUES ($1, $2, 'shopify', $3, $4, $5, $6, '[]', false, '{}', '{}',"
            " false, '{}', 'open', $7, $7, '', 'd')", ref, self.tenant, self.source, order_id, placed, currency, basis)
        return ref

    async def credit(self, ref: uuid.UUID, creator: uuid.UUID, by_code: bool, outcome: str = "credited"):
        slug = await self.c.fetchval("SELECT slug FROM attribution.links WHERE id = $1", self.link)
        await self.c.execute(
            "INSERT INTO attribution.order_credits (id, tenant_id, order_ref, outcome, creator_id, campaign_id,"
            " touch_kind, touch_label, code_id, explanation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '')",
            uuid.uuid4(), self.tenant, ref, outcome, creator, self.campaign, "code" if by_code else "click",
            "CODE" if by_code else slug, self.code if by_code else None)

    async def commission(self, order_id: str, creator: uuid.UUID, amount: int, line: str = "order",
                         currency: str = "USD") -> uuid.UUID:
        entry = uuid.uuid4()
        await self.c.execute(
            "INSERT INTO attribution.ledger_entries (id, tenant_id, kind, creator_id, campaign_id, currency, amount,"
            " source, order_id, line_key, reason, hold_until) VALUES ($1, $2, 'commission', $3, $4, $5, $6, $7, $8,"
            " $9, '', now() + interval '30 days')", entry, self.tenant, creator, self.campaign, currency, amount, f"shopify:{self.source}",
            order_id, line)
        return entry

    async def clawback(self, order_id: str, creator: uuid.UUID, amount: int, reverses: uuid.UUID):
        claim = uuid.uuid4()
        await self.c.execute(
            "INSERT INTO attribution.clawback_claims (id, tenant_id, source, order_id, refund_id, currency, amount,"
            " reason) VALUES ($1, $2, $3, $4, $5, 'USD', $6, '')", claim, self.tenant, f"shopify:{self.source}",
            order_id, f"r-{claim}", amount)
        await self.c.execute(
            "INSERT INTO attribution.ledger_entries (id, tenant_id, kind, creator_id, campaign_id, currency, amount,"
            " source, order_id, refund_id, claim_id, reverses_entry_id, reason, hold_until) VALUES ($1, $2,"
            " 'clawback', $3, $4, 'USD', $5, $6, $7, $8, $9, $10, '', now())", uuid.uuid4(), self.tenant, creator,
            self.campaign, -amount, f"shopify:{self.source}", order_id, f"r-{claim}", claim, reverses)

    async def click(self, at: datetime, unique: bool = True, flagged: bool = False) -> uuid.UUID:
        click = uuid.uuid4()
        await self.c.execute(
            "INSERT INTO attribution.clicks (id, tenant_id, link_id, campaign_id, creator_id, clicked_at, method,"
            " flagged, is_unique) VALUES ($1, $2, $3, $4, $5, $6, 'GET', $7, $8)", click, self.tenant, self.link,
            self.campaign, self.noor, at, flagged, unique)
        return click


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


async def test_every_step_of_an_orders_life_keeps_the_totals_equal_to_the_rows(db):
    shop = await Shop(db).create()
    # A ledger line written before its order is credited: counted, but on no day yet.
    ref = await shop.order("o1", at(2, 23), 10000)
    early = await shop.commission("o1", shop.maya, 1000)
    [row] = await _compare(db, shop.tenant)
    assert (row[2], row[3], row[10]) == ("", date.min, 1000)  # -infinity: in undated figures only
    await shop.credit(ref, shop.maya, by_code=True)
    found = await _compare(db, shop.tenant)
    assert [(r[2], r[3], r[5], r[10]) for r in found] == [("tiktok", date(2026, 3, 2), 1, 1000)]
    # A split order: a second creator's line, after the credit.
    ref2 = await shop.order("o2", at(3, 0), 5000)
    await shop.credit(ref2, shop.noor, by_code=False)
    lead = await shop.commission("o2", shop.noor, 300)
    await shop.commission("o2", shop.maya, 200, line=f"order:{shop.maya}")
    await _compare(db, shop.tenant)
    # Approved, paid, a refund's clawback and the order's new basis, then a cancellation.
    await db.execute("UPDATE attribution.ledger_entries SET state = 'approved', approved_at = now() WHERE id = $1", early)
    await shop.clawback("o2", shop.noor, 100, lead)
    await db.execute("UPDATE attribution.orders SET basis_minor = 3000 WHERE id = $1", ref2)
    await _compare(db, shop.tenant)
    await db.execute("UPDATE attribution.orders SET state = 'cancelled', basis_minor = 0 WHERE id = $1", ref)
    await _compare(db, shop.tenant)
    # Folded in the middle, then more: the sum of both still agrees.
    assert await db.fetchval("SELECT attribution.report_compact()") >= 1
    assert await db.fetchval("SELECT count(*) FROM attribution.report_deltas WHERE tenant_id = $1", shop.tenant) == 0
    # A credit moved to another creator and another touch; one that is not credited counts nothing.
    await db.execute("UPDATE attribution.order_credits SET creator_id = $2, touch_kind = 'click', code_id = NULL,"
                     " touch_label = (SELECT slug FROM attribution.links WHERE id = $3) WHERE order_ref = $1",
                     ref2, shop.maya, shop.link)
    ref3 = await shop.order("o3", at(4), 700)
    await shop.credit(ref3, shop.maya, by_code=True, outcome="unattributed")
    await shop.commission("o3", shop.maya, 70)
    # An order placed late on a day in another currency, and its line.
    ref4 = await shop.order("o4", at(4, 23), 4200, currency="EUR")
    await shop.credit(ref4, shop.noor, by_code=False)
    await shop.commission("o4", shop.noor, 420, currency="EUR")
    # Clicks: unique or not, flagged later, moved to another day.
    first = await shop.click(at(2, 8))
    await shop.click(at(2, 9), unique=False)
    await db.execute("UPDATE attribution.clicks SET flagged = true WHERE id = $1", first)
    late = await shop.click(at(5, 1))
    await db.execute("UPDATE attribution.clicks SET clicked_at = $2 WHERE id = $1", late, at(6, 1))
    found = await _compare(db, shop.tenant)
    clicks = {(r[3], r[14], r[15], r[16]) for r in found if r[4] == ""}
    assert clicks == {(date(2026, 3, 2), 2, 1, 1), (date(2026, 3, 6), 1, 1, 0)}
    assert {r[4] for r in found} == {"", "USD", "EUR"}


async def test_many_rows_in_one_statement_keep_the_totals_equal_to_the_rows(db):
    """The service writes a batch's decisions and ledger entries one INSERT per table (orders/batch.py);
    their report deltas come from each statement's rows at once (migration 0030): credited by code
    and by click, not credited, an order whose entries came first (moved to its key, and one of
    them in another campaign, which stays undated), entries of orders in no credit and in another
    currency, all in one statement each, then updated and removed row by row."""
    shop = await Shop(db).create()
    other_campaign = uuid.uuid4()
    await db.execute(
        "INSERT INTO attribution.campaigns (id, tenant_id, name, brand, starts_on, ends_on, budget_minor, currency,"
        " status) VALUES ($1, $2, 'other', 'Acme', '2026-01-01', '2026-12-31', 100000, 'USD', 'active')",
        other_campaign, shop.tenant)
    refs = {name: await shop.order(name, at(day, hour), basis, currency)
            for name, day, hour, basis, currency in (("m1", 2, 23, 10000, "USD"), ("m2", 3, 0, 5000, "USD"),
                                                     ("m3", 3, 5, 700, "USD"), ("m4", 4, 1, 4200, "EUR"),
                                                     ("m5", 4, 2, 900, "USD"))}
    early = await shop.commission("m2", shop.noor, 300)  # before its credit: undated until then
    await db.execute(
        "INSERT INTO attribution.ledger_entries (id, tenant_id, kind, creator_id, campaign_id, currency, amount,"
        " source, order_id, line_key, reason, hold_until) VALUES ($1, $2, 'commission', $3, $4, 'USD', 55, $5, 'm2',"
        " 'other', '', now() + interval '30 days')", uuid.uuid4(), shop.tenant, shop.noor, other_campaign, f"shopify:{shop.source}")
    slug = await db.fetchval("SELECT slug FROM attribution.links WHERE id = $1", shop.link)
    credits = [(refs["m1"], "credited", shop.maya, "code", "CODE", shop.code),
               (refs["m2"], "credited", shop.noor, "click", slug, None),
               (refs["m3"], "unattributed", shop.maya, "code", "CODE", shop.code),
               (refs["m4"], "credited", shop.noor, "click", slug, None)]
    await db.execute(
        "INSERT INTO attribution.order_credits (id, tenant_id, order_ref, outcome, creator_id, campaign_id, touch_kind,"
        " touch_label, code_id, explanation) SELECT gen_random_uuid(), $1, r, o, c, $2, k, l, d, ''"
        " FROM unnest($3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::uuid[]) AS t(r, o, c, k, l, d)",
        shop.tenant, shop.campaign, *(list(column) for column in zip(*credits)))
    found = await _compare(db, shop.tenant)
    assert (shop.noor, "youtube", date(2026, 3, 3), "USD") in {(r[1], r[2], r[3], r[4]) for r in found if r[10] == 300}
    entries = [("m1", shop.maya, 1000, "USD"), ("m1", shop.noor, 10, "USD"), ("m3", shop.maya, 70, "USD"),
               ("m4", shop.noor, 420, "EUR"), ("m5", shop.maya, 90, "USD"), ("m2", shop.noor, 20, "USD")]
    await db.execute(
        "INSERT INTO attribution.ledger_entries (id, tenant_id, kind, creator_id, campaign_id, currency, amount,"
        " source, order_id, line_key, reason, hold_until) SELECT gen_random_uuid(), $1, 'commission', c, $2, cur, a,"
        " $3, o, 'order:' || c::text, '', now() + interval '30 days' FROM unnest($4::text[], $5::uuid[], $6::bigint[], $7::text[])"
        " AS t(o, c, a, cur)", shop.tenant, shop.campaign, f"shopify:{shop.source}",
        *(list(column) for column in zip(*entries)))
    await _compare(db, shop.tenant)
    await db.execute("UPDATE attribution.ledger_entries SET state = 'approved', approved_at = now() WHERE id = $1", early)
    await db.execute("UPDATE attribution.order_credits SET outcome = 'unattributed' WHERE order_ref = $1", refs["m1"])
    await db.execute("DELETE FROM attribution.order_credits WHERE order_ref = $1", refs["m4"])
    await _compare(db, shop.tenant)


async def test_concurrent_writers_and_the_folding_worker_agree_with_the_rows(db, service_dsn):
    shop = await Shop(db).create()
    refs = []
    for i in range(40):
        refs.append((f"c{i}", await shop.order(f"c{i}", at(1 + i % 9, i % 24), 1000 + i)))

    async def writer(part: list) -> None:
        connection = await asyncpg.connect(service_dsn("attribution"))
        try:
            for order_id, ref in part:
                async with connection.transaction():
                    other = copy.copy(shop)
                    other.c = connection
                    await other.credit(ref, shop.maya if hash(order_id) % 2 else shop.noor, by_code=bool(len(order_id) % 2))
                    entry = await other.commission(order_id, shop.maya, 100)
                    await other.commission(order_id, shop.noor, 50, line=f"order:{shop.noor}")
                    await other.click(at(1 + len(order_id) % 9))
                await connection.execute("UPDATE attribution.ledger_entries SET state = 'approved', approved_at = now()"
                                         " WHERE id = $1", entry)
        finally:
            await connection.close()

    async def folder(stop: asyncio.Event) -> int:
        connection = await asyncpg.connect(service_dsn("attribution"))
        folded = 0
        try:
            while not stop.is_set():
                folded += await connection.fetchval("SELECT attribution.report_compact()")
                await asyncio.sleep(0.01)
        finally:
            await connection.close()
        return folded

    stop = asyncio.Event()
    folding = asyncio.create_task(folder(stop))
    await asyncio.gather(*(writer(refs[i::4]) for i in range(4)))
    stop.set()
    assert await folding > 0
    found = await _compare(db, shop.tenant)
    assert sum(r[5] for r in found) == 40 and sum(r[14] for r in found) == 40
    assert sum(r[10] for r in found) == 40 * 50 and sum(r[11] for r in found) == 40 * 100


async def test_the_whole_database_agrees_with_its_rows(db):
    """Every tenant the suite has written to by now, through every flow of the earlier tests."""
    different = await db.fetch(DIFFERENCE)
    assert not different, [dict(r) for r in different[:10]]


async def test_a_rebuild_gives_the_same_totals(db):
    shop = await Shop(db).create()
    ref = await shop.order("b1", at(7), 900)
    await shop.credit(ref, shop.maya, by_code=True)
    await shop.commission("b1", shop.maya, 90)
    before = await _compare(db, shop.tenant)
    assert await db.fetchval("SELECT attribution.report_rebuild()") >= 1
    assert await _compare(db, shop.tenant) == before


EXPECTED = """
SELECT c.creator_id, o.currency, count(*) AS orders, sum(o.basis_minor) AS revenue,
       (SELECT coalesce(sum(e.amount), 0) FROM attribution.ledger_entries e JOIN attribution.orders o2
          ON e.source = 'shopify:' || o2.source_id::text AND e.order_id = o2.order_id
        JOIN attribution.order_credits c2 ON c2.order_ref = o2.id
        WHERE o2.tenant_id = $1 AND e.tenant_id = $1 AND e.campaign_id = $2 AND e.creator_id = c.creator_id
          AND c2.outcome = 'credited' AND c2.campaign_id = $2 AND o2.placed_at >= $3 AND o2.placed_at < $4) AS net
FROM attribution.order_credits c JOIN attribution.orders o ON o.id = c.order_ref
WHERE o.tenant_id = $1 AND c.campaign_id = $2 AND c.outcome = 'credited' AND o.placed_at >= $3 AND o.placed_at < $4
GROUP BY c.creator_id, o.currency
"""


@pytest.mark.parametrize("start, end", [
    (at(1, 0), at(9, 0)),  # whole days: the totals alone
    (at(2, 18), at(5, 6)),  # a partial first and last day around whole ones
    (at(3, 1), at(3, 23)),  # inside one day: the rows alone
    (at(2, 23), at(3, 2)),  # across one midnight, no whole day
])
async def test_a_period_reads_whole_days_from_the_totals_and_partial_days_from_the_rows(db, attribution_engine, start, end):
    from services.attribution.reports import service
    from shared.db import Reads

    shop = await Shop(db).create()
    for i, (day, hour) in enumerate([(2, 10), (2, 20), (3, 0), (3, 12), (4, 5), (5, 3), (5, 9), (6, 22)]):
        ref = await shop.order(f"p{i}", at(day, hour), 1000 * (i + 1))
        creator = (shop.maya, shop.noor)[i % 2]
        await shop.credit(ref, creator, by_code=i % 2 == 0)
        entry = await shop.commission(f"p{i}", creator, 100 * (i + 1))
        if i % 3 == 0:
            await shop.clawback(f"p{i}", creator, 10, entry)
        await shop.click(at(day, hour))
    reads = Reads(attribution_engine).for_tenant(shop.tenant)
    report = await service.campaign_report(reads, shop.campaign, start, end)
    expected = {(r["creator_id"], r["currency"]): (r["orders"], r["revenue"], r["net"])
                for r in await db.fetch(EXPECTED, shop.tenant, shop.campaign, start, end)}
    got = {(line.creator_id, m.currency): (m.orders, m.revenue, m.net_commission)
           for line in report.creators for m in line.money}
    assert got == expected and expected
    clicks = await db.fetchval("SELECT count(*) FROM attribution.clicks WHERE tenant_id = $1 AND clicked_at >= $2"
                               " AND clicked_at < $3", shop.tenant, start, end)
    assert report.clicks.total == clicks


async def test_an_entry_whose_source_is_written_otherwise_is_counted_where_the_rows_say(db):
    shop = await Shop(db).create()
    ref = await shop.order("u1", at(8), 800)
    await shop.credit(ref, shop.maya, by_code=True)
    await db.execute(
        "INSERT INTO attribution.ledger_entries (id, tenant_id, kind, creator_id, campaign_id, currency, amount, source,"
        " order_id, line_key, reason, hold_until) VALUES ($1, $2, 'commission', $3, $4, 'USD', 80, $5, 'u1', 'order',"
        " '', now() + interval '30 days')", uuid.uuid4(), shop.tenant, shop.maya, shop.campaign,
        f"shopify:{str(shop.source).upper()}")  # not how crediting writes it: no order of it, so no day
    found = await _compare(db, shop.tenant)
    assert [(r[3], r[10]) for r in found if r[10]] == [(date.min, 80)]


@pytest.mark.parametrize("first", ["the order moves", "the entry is approved"])
async def test_an_order_moved_to_another_day_while_its_entry_is_approved_ends_on_the_new_day(db, service_dsn, first):
    shop = await Shop(db).create()
    ref = await shop.order("m1", at(2, 12), 1000)
    await shop.credit(ref, shop.maya, by_code=True)
    entry = await shop.commission("m1", shop.maya, 100)
    mover, approver = await asyncpg.connect(service_dsn("attribution")), await asyncpg.connect(service_dsn("attribution"))
    move = "UPDATE attribution.orders SET placed_at = $2 WHERE id = $1"
    approve = "UPDATE attribution.ledger_entries SET state = 'approved', approved_at = now() WHERE id = $1"
    try:
        moving, approving = mover.transaction(), approver.transaction()
        await moving.start()
        await approving.start()
        if first == "the order moves":
            await mover.execute(move, ref, at(5, 12))
            waiting = asyncio.create_task(approver.execute(approve, entry))  # waits for the mover's lock
            await asyncio.sleep(0.3)
            assert not waiting.done()
            await moving.commit()
            await waiting
            await approving.commit()
        else:
            await approver.execute(approve, entry)
            waiting = asyncio.create_task(mover.execute(move, ref, at(5, 12)))  # its trigger waits for the entry
            await asyncio.sleep(0.3)
            assert not waiting.done()
            await approving.commit()
            await waiting
            await moving.commit()
    finally:
        await mover.close()
        await approver.close()
    found = await _compare(db, shop.tenant)
    assert [(r[3], r[10], r[11]) for r in found if r[10] or r[11]] == [(date(2026, 3, 5), 0, 100)]


@pytest.mark.parametrize("start, end", [(at(3, 0), at(4, 0)), (at(3, 6), at(4, 0)), (at(3, 6), at(3, 18))])
async def test_a_creators_share_of_a_split_order_counts_on_whole_and_partial_days_alike(db, attribution_engine, start, end):
    from services.attribution.reports import service
    from shared.db import Reads

    shop = await Shop(db).create()
    ref = await shop.order("s1", at(3, 12), 5000)
    await shop.credit(ref, shop.noor, by_code=False)  # noor leads; maya has a share of it
    await shop.commission("s1", shop.noor, 300)
    await shop.commission("s1", shop.maya, 200, line=f"order:{shop.maya}")
    reads = Reads(attribution_engine).for_tenant(shop.tenant)
    report = await service.creator_report(reads, shop.maya, start, end)
    [line] = report.campaigns
    assert [(m.currency, m.orders, m.net_commission) for m in line.money] == [("USD", 0, 200)]
