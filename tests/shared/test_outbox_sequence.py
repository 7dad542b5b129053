"""Every event gets the next sequence number of its (topic, aggregate), in commit order, and a
concurrent writer of the same aggregate waits, so outbox ids follow the sequence too."""

import asyncio
import uuid

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from services.discovery.db import OutboxMessage, outbox
from shared.contracts.discovery import CreatorPayload
from shared.contracts.envelope import new_envelope
from shared.db import make_engine, make_sessionmaker

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TOPIC = "discovery.creator.v2"


@pytest_asyncio.fixture
async def sessions(platform):
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"], application_name="test-sequence")
    yield make_sessionmaker(engine)
    await engine.dispose()


def event(creator_id: uuid.UUID, event_type: str = "CreatorChanged"):
    return new_envelope(
        event_type=event_type,
        producer="discovery",
        aggregate_id=str(creator_id),
        payload=CreatorPayload(creator_id=creator_id, platform="x", handle="seq", audit_needed=False),
    )


async def rows_of(sessions, creator_id) -> list[tuple[int, int]]:
    async with sessions() as session:
        result = await session.execute(
            select(OutboxMessage.id, OutboxMessage.sequence)
            .where(OutboxMessage.key == str(creator_id))
            .order_by(OutboxMessage.id)
        )
        return [tuple(r) for r in result]


async def test_events_of_one_aggregate_are_numbered_from_one_in_the_order_they_are_added(sessions):
    creator_id, other = uuid.uuid4(), uuid.uuid4()
    async with sessions() as session, session.begin():
        first = await outbox.add(session, TOPIC, event(creator_id, "CreatorCreated"))
        second = await outbox.add(session, TOPIC, event(creator_id))
        elsewhere = await outbox.add(session, TOPIC, event(other, "CreatorCreated"))
    async with sessions() as session, session.begin():
        third = await outbox.add(session, TOPIC, event(creator_id))

    assert [first.sequence, second.sequence, third.sequence, elsewhere.sequence] == [1, 2, 3, 1]
    assert [seq for _, seq in await rows_of(sessions, creator_id)] == [1, 2, 3]


async def test_add_all_numbers_each_aggregate_in_list_order_after_its_earlier_events(sessions):
    a, b = uuid.uuid4(), uuid.uuid4()
    async with sessions() as session, session.begin():
        await outbox.add(session, TOPIC, event(a, "CreatorCreated"))
    async with sessions() as session, session.begin():
        added = await outbox.add_all(session, TOPIC, [event(b, "CreatorCreated"), event(a), event(b), event(a), event(a)])

    assert [(e.aggregate_id, e.sequence) for e in added] == [
        (str(b), 1), (str(a), 2), (str(b), 2), (str(a), 3), (str(a), 4)
    ]
    assert [seq for _, seq in await rows_of(sessions, a)] == [1, 2, 3, 4]
    assert [seq for _, seq in await rows_of(sessions, b)] == [1, 2]


async def test_a_rolled_back_event_leaves_no_gap(sessions):
    creator_id = uuid.uuid4()
    async with sessions() as session:
        async with session.begin():
            await outbox.add(session, TOPIC, event(creator_id, "CreatorCreated"))
        await session.begin()
        await outbox.add(session, TOPIC, event(creator_id))
        await session.rollback()
    async with sessions() as session, session.begin():
        last = await outbox.add(session, TOPIC, event(creator_id))
    assert last.sequence == 2


async def test_a_concurrent_writer_of_the_same_aggregate_waits_and_gets_the_next_number_and_a_later_id(sessions):
    creator_id = uuid.uuid4()
    async with sessions() as first, sessions() as second:
        await first.begin()
        early = await outbox.add(first, TOPIC, event(creator_id, "CreatorCreated"))
        await first.flush()  # `first` holds an outbox id that becomes visible only at its commit

        async def write_second():
            async with second.begin():
                return await outbox.add(second, TOPIC, event(creator_id))

        late_task = asyncio.create_task(write_second())
        await asyncio.sleep(1)
        assert not late_task.done(), "the second writer did not wait for the first"
        await first.commit()
        late = await late_task

    assert (early.sequence, late.sequence) == (1, 2)
    ids = await rows_of(sessions, creator_id)
    assert [seq for _, seq in ids] == [1, 2]


async def test_a_sole_event_is_number_one_and_leaves_no_counter(sessions):
    creator_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        added = await outbox.add_sole(session, TOPIC, event(creator_id, "CreatorCreated"))
    assert added.sequence == 1
    assert [seq for _, seq in await rows_of(sessions, creator_id)] == [1]
    async with sessions() as session:
        counters = await session.scalar(
            select(func.count()).select_from(OutboxMessage.sequences).where(OutboxMessage.sequences.key == str(creator_id))
        )
    assert counters == 0

