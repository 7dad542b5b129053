"""`shared.db.transaction_memo` on a real session: what a batch's transaction remembers (crediting's
rules, thresholds, locks and notes: ADR 0056) lives exactly as long as that transaction, so a
rolled-back batch's memo never reaches its record-by-record replay, and a savepoint never leaves
behind what it may have rolled back alone."""

import uuid

import pytest

from services.attribution.fraud import service as fraud
from services.attribution.fraud.models import CreatorCustomerKey
from shared.db import transaction_memo
from shared.tenancy import acting_for

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_memo_lives_as_long_as_its_transaction(sessions):
    async with sessions() as session:
        async with session.begin():
            memo = transaction_memo(session, "test")
            memo["lock"] = True
            assert transaction_memo(session, "test") is memo
            assert transaction_memo(session, "other") == {}
        async with session.begin():
            assert transaction_memo(session, "test") == {}  # after a commit
        try:
            async with session.begin():
                transaction_memo(session, "test")["note"] = True
                raise RuntimeError("the batch fails")
        except RuntimeError:
            pass
        async with session.begin():
            assert transaction_memo(session, "test") == {}  # after a rollback, the replay starts afresh


async def test_a_savepoint_has_a_memo_of_its_own(sessions):
    async with sessions() as session, session.begin():
        transaction_memo(session, "test")["outer"] = True
        try:
            async with session.begin_nested():
                inner = transaction_memo(session, "test")
                assert inner == {}
                inner["marked"] = True
                raise RuntimeError("the savepoint is rolled back")
        except RuntimeError:
            pass
        assert "marked" not in transaction_memo(session, "test")
        assert transaction_memo(session, "test") == {"outer": True}  # the transaction's own, kept
        async with session.begin_nested():
            transaction_memo(session, "test")["inner"] = True
        assert transaction_memo(session, "test") == {"outer": True}  # after a savepoint released too


async def test_a_creators_own_customer_keys_are_remembered_per_tenant(sessions):
    """One batch carries several tenants' orders, and a creator id is the same in every tenant:
    what one tenant registered as the creator's own must never judge another tenant's order."""
    first, second, creator = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with sessions() as session, session.begin():
        with acting_for(session, first):
            session.add(CreatorCustomerKey(id=uuid.uuid4(), tenant_id=first, creator_id=creator, customer_key="k" * 64))
            await session.flush()
            assert await fraud._own_keys(session, first, creator) == {"k" * 64}
        with acting_for(session, second):
            assert await fraud._own_keys(session, second, creator) == set()
        await session.rollback()


async def test_a_batch_that_defers_its_writes_refuses_a_savepoint_inside_it(sessions):
    """orders/batch.py: what a savepoint would write at once and what the batch keeps for its end
    would each miss the other, so asking for the deferred writes inside one is an error, not a
    silent second truth."""
    from services.attribution.orders import batch

    async with sessions() as session, session.begin():
        await batch.prepare(session, [], parse=lambda delivery: None)
        assert batch.deferred(session) is not None
        async with session.begin_nested():
            with pytest.raises(RuntimeError, match="open no savepoint"):
                batch.deferred(session)
        assert batch.deferred(session) is not None  # the batch's own, after the savepoint
    async with sessions() as session, session.begin(), session.begin_nested():
        assert batch.deferred(session) is None  # no batch: writes are made as they come


async def test_a_block_planned_for_its_values_inside_a_generically_planned_transaction(sessions):
    """The order consumer's transaction plans generically (ADR 0063); a query whose plan depends on
    how much its values select (the split's fit) is planned for them, and the transaction's
    setting comes back after it."""
    from sqlalchemy import text

    from shared.db import planned_per_execution

    async def mode(session) -> str:
        return (await session.execute(text("SELECT current_setting('plan_cache_mode')"))).scalar_one()

    async with sessions() as session, session.begin():
        await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        async with planned_per_execution(session):
            assert await mode(session) == "auto"
        assert await mode(session) == "force_generic_plan"


async def test_the_leaked_code_statement_reads_totals_and_never_the_decisions():
    """Its cost is the hours and minutes it spans, not the orders they hold (ADR 0064): it reads
    the hour and minute totals, never order_credits."""
    from sqlalchemy.dialects import postgresql

    sql = str(fraud._CODE_FACTS.compile(dialect=postgresql.dialect()))
    assert "order_credits" not in sql, sql
    assert "attribution.code_hour_totals" in sql and "attribution.code_minute_totals" in sql
