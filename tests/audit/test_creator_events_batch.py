"""Audit's consumer applies a batch of discovery.creator.v2 events in one transaction: a
creator's later events in the batch neither ask again whether it was erased nor schedule its
automatic audit again, and a new transaction asks afresh (an erasure may have come between)."""

import uuid

import pytest
import pytest_asyncio
from sqlalchemy import event, func, select

from services.audit.audit.handlers import CreatorEvents
from services.audit.audit.models import Audit
from services.audit.privacy.models import ErasedCreator
from shared.db import make_engine, make_sessionmaker
from tests.conftest import creator_created

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def engine(platform):
    engine = make_engine(platform.service_env("audit")["DATABASE_URL"], pool_size=2)
    yield engine
    await engine.dispose()


def counting(engine) -> list[str]:
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


async def apply(sessionmaker, handlers: CreatorEvents, envelopes) -> None:
    async with sessionmaker() as session, session.begin():
        for envelope in envelopes:
            await handlers.created(session, envelope)


async def test_a_creators_second_event_in_a_batch_asks_nothing_again(engine):
    sessionmaker = make_sessionmaker(engine)
    handlers = CreatorEvents(delay=300)
    statements = counting(engine)

    def asked() -> tuple[int, int]:
        """Statements about erasure (its lock and its table), and statements on audits."""
        erasure = sum(1 for s in statements if "erased_creators" in s or "advisory" in s)
        audits = sum(1 for s in statements if "audit.audits" in s or "INTO audits" in s or " audits " in s)
        return erasure, audits

    await apply(sessionmaker, handlers, [creator_created(uuid.uuid4())])
    once = asked()
    assert once[0] >= 1 and once[1] >= 1, statements

    statements.clear()
    two = uuid.uuid4()
    await apply(sessionmaker, handlers, [creator_created(two), creator_created(two), creator_created(two)])
    assert asked() == once, statements

    statements.clear()
    await apply(sessionmaker, handlers, [creator_created(uuid.uuid4()), creator_created(uuid.uuid4())])
    assert asked() == (2 * once[0], 2 * once[1]), statements
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Audit).where(Audit.creator_id == two)) == 1


async def test_a_new_transaction_sees_an_erasure_made_between(engine):
    sessionmaker = make_sessionmaker(engine)
    handlers = CreatorEvents(delay=300)
    creator_id = uuid.uuid4()
    await apply(sessionmaker, handlers, [creator_created(creator_id)])
    async with sessionmaker() as session, session.begin():
        await session.execute(Audit.__table__.delete().where(Audit.creator_id == creator_id))
        session.add(ErasedCreator(creator_id=creator_id))

    await apply(sessionmaker, handlers, [creator_created(creator_id), creator_created(creator_id)])
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Audit).where(Audit.creator_id == creator_id)) == 0
