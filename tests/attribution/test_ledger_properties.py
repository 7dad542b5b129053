"""Invariants of the ledger, with generated histories on the real database (hypothesis).

A history is a few orders (one creator each, in EUR or JPY, one or two commission lines, refunds
and cancellations) and the operations that touch them: each commission, each refund, approvals
at chosen days and payout requests. Each run plays its operations under a fresh tenant, one
transaction each, as deliveries arrive.

- Totals always equal the sum of entries: per creator and currency, pending + approved - owed +
  paid is the sum of the entries, paid is the sum of the payouts, and each payout is the sum of
  the entries it paid (so no entry is paid twice, nor paid without a batch).
- Replaying any set of operations any number of times, in any order, gives the same ledger: the
  same commission entries, the same clawback total per order (what was asked, capped at the
  order's commission) and the same net per creator and currency. Which state the money is in
  (pending, approved, paid or owed) depends on when approvals and payouts ran, as it should.
"""

import asyncio
import uuid
from collections import defaultdict
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.attribution.ledger import repository, service
from services.attribution.ledger.models import LedgerEntry, Payout
from services.attribution.ledger.schemas import BalanceRead
from shared.errors import Conflict
from shared.pagination import PageParams
from tests.attribution.conftest import unit_of_work
from tests.attribution.ledger_helpers import CAMPAIGN, EPOCH, SOURCE

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CREATORS = (uuid.UUID("00000000-0000-4000-8000-0000000000a1"), uuid.UUID("00000000-0000-4000-8000-0000000000b2"))
CURRENCIES = ("EUR", "JPY")

order_specs = st.fixed_dictionaries({
    "creator": st.sampled_from(CREATORS),
    "currency": st.sampled_from(CURRENCIES),
    "lines": st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=2),
    "hold_day": st.integers(min_value=0, max_value=3),
    # None: a cancellation (claw back everything).
    "refunds": st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=6000)), max_size=2),
})
histories = st.lists(order_specs, min_size=1, max_size=4)


def operations_of(orders: list[dict]) -> list[tuple]:
    ops: list[tuple] = []
    for o, spec in enumerate(orders):
        ops += [("commission", o, line) for line in range(len(spec["lines"]))]
        ops += [("refund", o, r) for r in range(len(spec["refunds"]))]
    ops += [("approve", day) for day in (1, 3)]
    ops += [("payout", spec["creator"], spec["currency"]) for spec in orders]
    return ops


async def play(sessions, tenant: uuid.UUID, orders: list[dict], ops: list[tuple]) -> None:
    for op in ops:
        async with unit_of_work(sessions, tenant) as session:
            if op[0] == "commission":
                _, o, line = op
                spec = orders[o]
                await service.record_commission(
                    session, source=SOURCE, order_id=f"o{o}", line_key=f"line-{line}", creator_id=spec["creator"],
                    campaign_id=CAMPAIGN, currency=spec["currency"], amount=spec["lines"][line],
                    hold_until=EPOCH + timedelta(days=spec["hold_day"]), reason=f"line {line} of order o{o}",
                )
            elif op[0] == "refund":
                _, o, r = op
                spec = orders[o]
                await service.claw_back(
                    session, source=SOURCE, order_id=f"o{o}", refund_id=f"refund-{r}", currency=spec["currency"],
                    amount=spec["refunds"][r], reason=f"refund {r} of order o{o}",
                )
            elif op[0] == "approve":
                await service.approve_due(session, EPOCH + timedelta(days=op[1]))
        if op[0] == "payout":
            # Two requests at once, as a double click would send them: at most one batch pays.
            made = await asyncio.gather(*(pay(sessions, tenant, op[1], op[2]) for _ in range(2)))
            assert sum(made) <= 1


async def pay(sessions, tenant: uuid.UUID, creator_id: uuid.UUID, currency: str) -> int:
    """1 if a batch was made, 0 if there was nothing to pay or a balance owed (nothing changed)."""
    try:
        async with unit_of_work(sessions, tenant) as session:
            await service.create_payout(session, creator_id, currency, EPOCH + timedelta(days=2))
    except Conflict:
        return 0
    return 1


async def ledger_of(sessions, tenant: uuid.UUID):
    async with unit_of_work(sessions, tenant) as session:
        entries = list((await session.execute(select(LedgerEntry))).scalars())
        payouts = list((await session.execute(select(Payout))).scalars())
        balances = await repository.balances_page(session, PageParams(limit=200, cursor=None))
    return entries, payouts, [BalanceRead.of(row) for row in balances]


def expected_clawback(spec: dict) -> int:
    """What a model of the rule says an order's clawbacks total: everything asked, capped at the commission."""
    commission = sum(spec["lines"])
    asked = commission if None in spec["refunds"] else sum(spec["refunds"])
    return -min(asked, commission)


def check_totals(orders: list[dict], entries, payouts, balances) -> None:
    net = defaultdict(int)
    for e in entries:
        net[(e.creator_id, e.currency)] += e.amount
    assert {(b.creator_id, b.currency): b.pending + b.approved - b.owed + b.paid for b in balances} == dict(net)
    paid_out = defaultdict(int)
    for p in payouts:
        paid_out[(p.creator_id, p.currency)] += p.amount
        mine = [e for e in entries if e.payout_id == p.id]
        assert sum(e.amount for e in mine) == p.amount > 0 and len(mine) == p.entry_count
        assert all(e.creator_id == p.creator_id and e.currency == p.currency for e in mine)
    assert {(b.creator_id, b.currency): b.paid for b in balances if b.paid} == dict(paid_out)
    assert all((e.state == "paid") == (e.payout_id is not None) for e in entries)
    for o, spec in enumerate(orders):
        mine = [e for e in entries if e.order_id == f"o{o}"]
        assert sum(e.amount for e in mine if e.kind == "clawback") == expected_clawback(spec)
        for c in (e for e in mine if e.kind == "commission"):
            assert c.amount + sum(e.amount for e in mine if e.reverses_entry_id == c.id) >= 0


def the_ledger(entries) -> tuple:
    """What every replay must agree on (ids and timestamps are the run's own)."""
    commissions = sorted(
        (e.order_id, e.line_key, e.creator_id, e.campaign_id, e.currency, e.amount, e.hold_until)
        for e in entries if e.kind == "commission"
    )
    clawed, net = defaultdict(int), defaultdict(int)
    for e in entries:
        net[(e.creator_id, e.currency)] += e.amount
        if e.kind == "clawback":
            clawed[e.order_id] += e.amount
    return commissions, dict(clawed), dict(net)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=histories, data=st.data())
async def test_any_replay_in_any_order_gives_the_same_ledger_and_totals_equal_the_entries(sessions, orders, data):
    ops = operations_of(orders)
    first = data.draw(st.permutations(ops), label="first order")
    repeats = data.draw(st.lists(st.sampled_from(ops), max_size=len(ops)), label="replayed")
    second = data.draw(st.permutations(ops + repeats), label="second order")
    runs = []
    for played in (first, second):
        tenant = uuid.uuid4()
        await play(sessions, tenant, orders, played)
        entries, payouts, balances = await ledger_of(sessions, tenant)
        check_totals(orders, entries, payouts, balances)
        runs.append(the_ledger(entries))
    assert runs[0] == runs[1]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=histories, data=st.data())
async def test_playing_everything_twice_changes_nothing(sessions, orders, data):
    ops = data.draw(st.permutations(operations_of(orders)))
    tenant = uuid.uuid4()
    await play(sessions, tenant, orders, ops)
    before = await ledger_of(sessions, tenant)
    await play(sessions, tenant, orders, [op for op in ops if op[0] in ("commission", "refund")])
    after = await ledger_of(sessions, tenant)
    key = lambda e: e.id  # noqa: E731
    assert [(e.id, e.amount, e.state) for e in sorted(after[0], key=key)] == [
        (e.id, e.amount, e.state) for e in sorted(before[0], key=key)
    ]
