"""The ledger's service functions against the real database: idempotency by natural key, the
clawback cap and its explanation, clawbacks that arrive before their commission, approval after
the holding period, payouts and the balance owed, and the triggers that keep entries append-only."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.attribution.ledger import service
from services.attribution.ledger.models import LedgerEntry
from shared.errors import Conflict, Invalid
from tests.attribution.conftest import unit_of_work
from tests.attribution.ledger_helpers import CREATOR, EPOCH, commission, order_id, refund

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def entries_of(sessions, tenant, order: str) -> list[LedgerEntry]:
    async with unit_of_work(sessions, tenant) as session:
        query = select(LedgerEntry).where(LedgerEntry.order_id == order).order_by(LedgerEntry.created_at, LedgerEntry.id)
        return list((await session.execute(query)).scalars())


async def test_recording_a_commission_again_returns_the_same_entry(sessions):
    tenant, order = uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        first = await commission(session, order, 1250)
    async with unit_of_work(sessions, tenant) as session:
        again = await commission(session, order, 1250)
    assert again.id == first.id and first.state == "pending" and first.amount == 1250
    assert [e.id for e in await entries_of(sessions, tenant, order)] == [first.id]


async def test_a_replay_with_other_figures_is_refused_and_changes_nothing(sessions):
    tenant, order = uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, order, 1250)
    with pytest.raises(Conflict) as refused:
        async with unit_of_work(sessions, tenant) as session:
            await commission(session, order, 1300)
    assert refused.value.detail[0]["field"] == "line_key"
    assert [e.amount for e in await entries_of(sessions, tenant, order)] == [1250]


async def test_a_refund_in_another_currency_than_the_commission_is_refused(sessions):
    tenant, order = uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, order, 1250)
    with pytest.raises(Conflict) as refused:
        async with unit_of_work(sessions, tenant) as session:
            await refund(session, order, "r1", 100, currency="USD")
    assert refused.value.detail[0]["field"] == "currency"


@pytest.mark.parametrize(("amount", "currency", "field"), [(0, "EUR", "amount"), (-5, "EUR", "amount"),
                                                           (10, "EURO", "currency"), (10, "XAU", "currency")])
async def test_bad_money_is_refused_naming_the_field(sessions, amount, currency, field):
    with pytest.raises(Invalid) as refused:
        async with unit_of_work(sessions, uuid.uuid4()) as session:
            await commission(session, order_id(), amount, currency=currency)
    assert refused.value.detail[0]["field"] == field


async def test_a_clawback_larger_than_the_commission_left_is_capped_and_says_so(sessions):
    tenant, order = uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, order, 1000)
        first = await refund(session, order, "r1", 700)
        second = await refund(session, order, "r2", 700)
    assert [e.amount for e in first] == [-700]
    assert [e.amount for e in second] == [-300]
    assert "capped" in second[0].reason and "7.00 EUR" in second[0].reason and "4.00 EUR more" in second[0].reason
    assert sum(e.amount for e in await entries_of(sessions, tenant, order)) == 0


async def test_a_clawback_before_its_commission_is_kept_and_applied_when_the_commission_arrives(sessions):
    tenant, order = uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        assert await refund(session, order, "r1", 400) == []
    assert await entries_of(sessions, tenant, order) == []
    async with unit_of_work(sessions, tenant) as session:
        made = await commission(session, order, 1000)
    entries = await entries_of(sessions, tenant, order)
    clawbacks = [e for e in entries if e.kind == "clawback"]
    assert [(e.amount, e.refund_id, e.reverses_entry_id) for e in clawbacks] == [(-400, "r1", made.id)]
    assert clawbacks[0].hold_until == made.hold_until and clawbacks[0].creator_id == CREATOR


async def test_a_capped_clawback_takes_the_rest_from_commission_recorded_later(sessions):
    tenant, order = uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, order, 300, line_key="line-1")
        capped = await refund(session, order, "r1", 500)
    assert [e.amount for e in capped] == [-300] and "capped" in capped[0].reason
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, order, 1000, line_key="line-2")
        again = await refund(session, order, "r1", 500)
    assert sorted(e.amount for e in again) == [-300, -200]
    assert sum(e.amount for e in await entries_of(sessions, tenant, order)) == 800


async def test_a_cancellation_claws_back_all_of_the_order_including_commission_recorded_after_it(sessions):
    tenant, order = uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, order, 999, line_key="line-1")
        await refund(session, order, "cancel", None)
        await commission(session, order, 1, line_key="line-2")
        await refund(session, order, "late-refund", 50)
    entries = await entries_of(sessions, tenant, order)
    assert sum(e.amount for e in entries) == 0
    assert all(e.refund_id == "cancel" for e in entries if e.kind == "clawback")


async def test_approve_due_approves_only_entries_past_their_hold(sessions):
    tenant, early, late = uuid.uuid4(), order_id(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, early, 100, hold_until=EPOCH)
        await commission(session, late, 100, hold_until=EPOCH + timedelta(days=1))
        assert await service.approve_due(session, EPOCH) == 1
        assert await service.approve_due(session, EPOCH) == 0
    assert [e.state for e in await entries_of(sessions, tenant, early)] == ["approved"]
    assert [e.state for e in await entries_of(sessions, tenant, late)] == ["pending"]


async def test_approve_due_works_in_batches_and_skips_entries_another_transaction_holds(sessions):
    tenant, held, free = uuid.uuid4(), order_id(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        locked = await commission(session, held, 100, hold_until=EPOCH)
        await commission(session, free, 100, hold_until=EPOCH)
    async with unit_of_work(sessions, tenant) as holder:
        # A payout in progress holds this entry: the approval skips it instead of waiting.
        await holder.execute(select(LedgerEntry).where(LedgerEntry.id == locked.id).with_for_update())
        async with unit_of_work(sessions, tenant) as session:
            assert await service.approve_due(session, EPOCH, batch=1) == 1
            assert await service.approve_due(session, EPOCH, batch=1) == 0
    async with unit_of_work(sessions, tenant) as session:
        assert await service.approve_due(session, EPOCH, batch=1) == 1
    assert [e.state for e in await entries_of(sessions, tenant, held)] == ["approved"]


async def test_approve_due_of_one_tenant_leaves_another_tenants_entries_alone(sessions):
    mine, theirs, order = uuid.uuid4(), uuid.uuid4(), order_id()
    async with unit_of_work(sessions, theirs) as session:
        await commission(session, order, 100, hold_until=EPOCH)
    async with unit_of_work(sessions, mine) as session:
        assert await service.approve_due(session, EPOCH + timedelta(days=1)) == 0
    assert [e.state for e in await entries_of(sessions, theirs, order)] == ["pending"]


async def test_a_clawback_after_payout_is_owed_and_deducted_from_the_next_batch(sessions):
    tenant, creator, first, second = uuid.uuid4(), uuid.uuid4(), order_id(), order_id()
    now = EPOCH + timedelta(days=40)
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, first, 1000, creator_id=creator)
        paid = await service.create_payout(session, creator, "EUR", now)
    assert (paid.amount, paid.entry_count) == (1000, 1)
    async with unit_of_work(sessions, tenant) as session:
        await refund(session, first, "r1", 400)
    # Owed from the moment of the refund, not once the approval worker next runs.
    clawback = [e for e in await entries_of(sessions, tenant, first) if e.kind == "clawback"]
    assert [(e.state, e.amount, e.approved_at is not None) for e in clawback] == [("approved", -400, True)]
    with pytest.raises(Conflict) as owed:
        async with unit_of_work(sessions, tenant) as session:
            await service.create_payout(session, creator, "EUR", now)
    assert "-4.00 EUR" in owed.value.detail[0]["reason"] and owed.value.detail[0]["field"] == "body.creator_id"
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, second, 1500, creator_id=creator)
        net = await service.create_payout(session, creator, "EUR", now)
    assert (net.amount, net.commission_total, net.clawback_total, net.entry_count) == (1100, 1500, -400, 2)


async def test_a_clawback_of_a_pending_commission_stays_pending_with_it(sessions):
    tenant, order = uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, order, 1000, hold_until=EPOCH + timedelta(days=30))
        await refund(session, order, "r1", 400)
    assert sorted((e.kind, e.state) for e in await entries_of(sessions, tenant, order)) == [
        ("clawback", "pending"), ("commission", "pending")]


async def test_a_creator_with_nothing_approved_gets_no_batch(sessions):
    with pytest.raises(Conflict):
        async with unit_of_work(sessions, uuid.uuid4()) as session:
            await service.create_payout(session, uuid.uuid4(), "EUR", EPOCH)


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE attribution.ledger_entries SET amount = amount + 1 WHERE id = :id",
        "UPDATE attribution.ledger_entries SET currency = 'USD' WHERE id = :id",
        "UPDATE attribution.ledger_entries SET order_id = 'another' WHERE id = :id",
        "UPDATE attribution.ledger_entries SET source = 'another' WHERE id = :id",
        "UPDATE attribution.ledger_entries SET reason = 'rewritten' WHERE id = :id",
        "UPDATE attribution.ledger_entries SET hold_until = now() WHERE id = :id",
        "DELETE FROM attribution.ledger_entries WHERE id = :id",
        # State: only forward, one step at a time.
        "UPDATE attribution.ledger_entries SET state = 'paid', paid_at = now(), approved_at = now() WHERE id = :id",
    ],
)
async def test_the_database_refuses_to_change_or_delete_an_entry(attribution_engine, sessions, change):
    tenant, order = uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        entry = await commission(session, order, 1250)
    with pytest.raises(DBAPIError, match="append-only|not a step"):
        async with attribution_engine.begin() as connection:
            await connection.execute(text(change), {"id": entry.id})
    [kept] = await entries_of(sessions, tenant, order)
    assert (kept.amount, kept.currency, kept.order_id, kept.state) == (1250, "EUR", order, "pending")


async def test_the_database_refuses_to_move_a_paid_entry_back(attribution_engine, sessions):
    tenant, creator, order = uuid.uuid4(), uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        entry = await commission(session, order, 1250, creator_id=creator)
        await service.create_payout(session, creator, "EUR", EPOCH + timedelta(days=31))
    for back in ("state = 'approved', paid_at = NULL, payout_id = NULL", "payout_id = gen_random_uuid()"):
        with pytest.raises(DBAPIError, match="not a step|foreign key"):
            async with attribution_engine.begin() as connection:
                await connection.execute(text(f"UPDATE attribution.ledger_entries SET {back} WHERE id = :id"), {"id": entry.id})
    [kept] = await entries_of(sessions, tenant, order)
    assert kept.state == "paid"


@pytest.mark.parametrize("table", ["ledger_entries", "clawback_claims", "payouts"])
async def test_the_database_refuses_to_truncate_the_ledger(attribution_engine, table):
    with pytest.raises(DBAPIError, match="append-only"):
        async with attribution_engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE attribution.{table} CASCADE"))


async def test_the_database_refuses_to_change_a_payout_or_a_claim(attribution_engine, sessions):
    tenant, creator, order = uuid.uuid4(), uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        await commission(session, order, 1250, creator_id=creator)
        payout = await service.create_payout(session, creator, "EUR", EPOCH + timedelta(days=31))
        await refund(session, order, "r1", 10)
    for change in (
        "UPDATE attribution.payouts SET amount = 1 WHERE id = :id",
        "DELETE FROM attribution.payouts WHERE id = :id",
        "UPDATE attribution.clawback_claims SET amount = 1 WHERE order_id = :order",
        "DELETE FROM attribution.clawback_claims WHERE order_id = :order",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with attribution_engine.begin() as connection:
                await connection.execute(text(change), {"id": payout.id, "order": order})


async def test_a_key_with_nul_is_refused_and_a_nul_in_a_reason_is_dropped(sessions):
    tenant = uuid.uuid4()
    with pytest.raises(Invalid) as refused:
        async with unit_of_work(sessions, tenant) as session:
            await commission(session, "order\x00", 100)
    assert refused.value.detail[0]["field"] == "order_id"
    async with unit_of_work(sessions, tenant) as session:
        made = await service.record_commission(
            session, source="generic", order_id=order_id(), line_key="order", creator_id=CREATOR,
            campaign_id=uuid.uuid4(), currency="EUR", amount=1, hold_until=EPOCH, reason=" a partner's\x00 note ",
        )
    assert made.reason == "a partner's note"
