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


async def test_a_batch_large_enough_to_be_copied_keeps_list_order_and_the_same_rows(sessions):
    """From COPY_FROM_ROWS events, add_all streams the rows with COPY: the ids still follow the
    list, and each row holds what the INSERT path would have written (value bytes included)."""
    from shared.messaging.outbox import COPY_FROM_ROWS

    ids = [uuid.uuid4() for _ in range(7)]
    envelopes = [event(ids[i % 7], "CreatorCreated" if i < 7 else "CreatorChanged") for i in range(COPY_FROM_ROWS + 9)]
    async with sessions() as session, session.begin():
        added = await outbox.add_all(session, TOPIC, envelopes)
    async with sessions() as session:
        rows = (await session.execute(
            select(OutboxMessage).where(OutboxMessage.key.in_([str(i) for i in ids])).order_by(OutboxMessage.id)
        )).scalars().all()
    assert [r.event_id for r in rows] == [e.event_id for e in envelopes]
    assert [(r.key, r.sequence) for r in rows] == [(e.aggregate_id, e.sequence) for e in added]
    assert [r.sequence for r in rows if r.key == str(ids[0])] == list(range(1, len(envelopes) // 7 + 2))
    for row, envelope in zip(rows, added):
        assert (row.topic, row.event_type, row.correlation_id) == (TOPIC, envelope.event_type, envelope.correlation_id)
        assert row.value == type(envelope).__pydantic_serializer__.to_json(envelope)
        assert row.sent_at is None and row.parked_at is None and row.attempts == 0 and row.created_at is not None


async def test_events_rendered_ahead_are_numbered_for_real_when_added(sessions):
    """`render` serialises the events of aggregates said to be new, numbered from 1; should one
    have events already (here `old`, claimed new by mistake) or not be claimed new (`other`),
    `add_rendered` numbers and serialises it again, so the rows are what `add_all` writes."""
    old, fresh, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with sessions() as session, session.begin():
        await outbox.add(session, TOPIC, event(old, "CreatorCreated"))
        await outbox.add(session, TOPIC, event(other, "CreatorCreated"))
    envelopes = [event(fresh, "CreatorCreated"), event(old), event(fresh), event(other), event(old)]
    rendered = outbox.render(TOPIC, envelopes, new={str(fresh), str(old)})
    assert [e and e.sequence for e in rendered.sequenced] == [1, 1, 2, None, 2]

    async with sessions() as session, session.begin():
        added = await outbox.add_rendered(session, rendered)

    assert [(e.aggregate_id, e.sequence) for e in added] == [
        (str(fresh), 1), (str(old), 2), (str(fresh), 2), (str(other), 2), (str(old), 3)
    ]
    async with sessions() as session:
        rows = (await session.execute(
            select(OutboxMessage).where(OutboxMessage.key.in_([str(old), str(fresh), str(other)]))
            .order_by(OutboxMessage.id)
        )).scalars().all()
    assert [(r.key, r.sequence) for r in rows] == [(str(old), 1), (str(other), 1), *((e.aggregate_id, e.sequence) for e in added)]
    for row, envelope in zip(rows[2:], added):
        assert row.value == type(envelope).__pydantic_serializer__.to_json(envelope)
        assert b'"sequence":%d' % envelope.sequence in row.value


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

