"""The read path (`shared.db.ReadSession`): statements in their own implicit transaction, on the
real database. It answers what a request transaction answered, leaves no transaction open,
refuses writes, never hands an autocommit connection to `Session`, survives a dead pooled
connection, and answers the project's 503 while the database is down."""

import asyncio
import uuid

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import ProgrammingError

from services.discovery.creator import repository
from services.discovery.creator.models import Creator
from shared.db import ReadOnlySessionError, Reads, make_sessionmaker
from shared.pagination import PageParams
from tests.conftest import ServiceIdentity, unique_handle
from tests.shared.database import restart_postgres, sessions_of

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def creators(engine):
    """Three creators of a platform of their own, written through a request-style transaction."""
    ids = [uuid.uuid4() for _ in range(3)]
    rows = [{"id": i, "platform": "twitch", "handle": unique_handle("read")} for i in ids]
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(insert(Creator), rows)
    yield ids
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(delete(Creator).where(Creator.id.in_(ids)))


async def test_reads_answer_what_a_request_transaction_answers(engine, creators):
    reads = Reads(engine)
    page = PageParams(limit=200, cursor=None)
    async with make_sessionmaker(engine)() as session, session.begin():
        expected = [(c.id, c.handle, c.created_at) for c in await repository.list_page(session, page)]
        one = await repository.get(session, creators[0])
    got = [(c.id, c.handle, c.created_at) for c in await repository.list_page(reads, page)]
    assert got == expected
    read_one = await repository.get(reads, creators[0])
    assert (read_one.id, read_one.handle, read_one.updated_at) == (one.id, one.handle, one.updated_at)
    assert await repository.get(reads, uuid.uuid4()) is None
    assert (await reads.get(Creator, creators[1])).id == creators[1]
    assert await reads.scalar(select(Creator.handle).where(Creator.id == creators[0])) == one.handle
    assert set((await reads.scalars(select(Creator.id).where(Creator.id.in_(creators)))).all()) == set(creators)


async def test_reads_leave_no_transaction_open(engine, application_name, creators, discovery_db):
    reads = Reads(engine)
    await asyncio.gather(*[repository.list_page(reads, PageParams(limit=5, cursor=None)) for _ in range(6)])
    with pytest.raises(ProgrammingError):  # a failing statement must not leave one open either
        await reads.execute(select(text("no_such_column")).select_from(Creator))
    sessions = await sessions_of(application_name, discovery_db)
    assert sessions, "the engine's pooled connections should be visible"
    assert all(s["state"] == "idle" and s["xact_start"] is None for s in sessions), sessions


async def test_reads_refuse_writes(engine, creators):
    reads = Reads(engine)
    handle = unique_handle("refused")
    with pytest.raises(ReadOnlySessionError):
        await reads.execute(insert(Creator).values(id=uuid.uuid4(), platform="twitch", handle=handle))
    with pytest.raises(ReadOnlySessionError):
        await reads.execute(update(Creator).where(Creator.id == creators[0]).values(display_name="changed"))
    with pytest.raises(ReadOnlySessionError):  # not known to be a SELECT, so not run
        await reads.execute(
            text("insert into discovery.creators (id, platform, handle) values (:id, 'twitch', :handle)"),
            {"id": uuid.uuid4(), "handle": handle},
        )
    assert await reads.scalar(select(Creator.id).where(Creator.handle == handle)) is None
    assert (await reads.get(Creator, creators[0])).display_name is None


async def test_session_never_gets_an_autocommit_connection(engine):
    # Both pooled connections served reads first; a Session transaction on either must still
    # roll back (on an autocommit connection the insert would already be committed).
    reads = Reads(engine)
    await asyncio.gather(*[reads.execute(select(Creator.id).limit(1)) for _ in range(4)])
    ids = [uuid.uuid4(), uuid.uuid4()]
    sessionmaker = make_sessionmaker(engine)

    async def insert_then_roll_back(creator_id: uuid.UUID) -> None:
        async with sessionmaker() as session:
            async with session.begin():
                await session.execute(
                    insert(Creator).values(id=creator_id, platform="twitch", handle=unique_handle("rolled"))
                )
                await asyncio.sleep(0.05)  # both at once, so both connections are in use
                await session.rollback()

    await asyncio.gather(*[insert_then_roll_back(i) for i in ids])
    assert (await reads.scalars(select(Creator.id).where(Creator.id.in_(ids)))).all() == []


async def test_a_dead_pooled_connection_is_retried_on_a_fresh_one(engine, application_name, creators, discovery_db):
    reads = Reads(engine)
    await asyncio.gather(*[reads.execute(select(Creator.id).limit(1)) for _ in range(4)])
    killed = await discovery_db.fetchval(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = $1",
        application_name,
    )
    assert killed >= 1
    assert (await reads.get(Creator, creators[0])).id == creators[0]


async def test_a_write_session_never_gets_a_connection_the_server_closed(engine, application_name, discovery_db):
    """The write path has no retry (its handler cannot be run twice): a pooled connection the
    server closed while it sat idle is replaced at checkout instead (shared.db._drop_closed)."""
    sessions = make_sessionmaker(engine)

    async def write_once() -> int:
        async with sessions() as session, session.begin():
            return await session.scalar(select(func.count()).select_from(Creator))

    await asyncio.gather(*[write_once() for _ in range(4)])  # several idle connections in the pool
    killed = await discovery_db.fetchval(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = $1",
        application_name,
    )
    assert killed >= 1
    await asyncio.sleep(0.5)  # the closes reach the idle connections' sockets
    assert all(n >= 0 for n in await asyncio.gather(*[write_once() for _ in range(4)]))


@pytest_asyncio.fixture
async def discovery(platform):
    async with httpx.AsyncClient(base_url=platform.s.url("discovery"), timeout=30, auth=ServiceIdentity("discovery")) as client:
        yield client


async def test_reads_during_a_database_outage_answer_503(platform, discovery):
    assert (await discovery.get("/creators", params={"limit": 1})).status_code == 200
    await asyncio.to_thread(platform.postgres.stop)
    try:
        for path in ("/creators", f"/creators/{uuid.uuid4()}"):
            response = await discovery.get(path)
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "unavailable"
            assert int(response.headers["Retry-After"]) > 0
    finally:
        await asyncio.to_thread(restart_postgres, platform)
    # Every pooled connection died with the server; reads retry on a fresh one, so none fails.
    statuses = [(await discovery.get("/creators", params={"limit": 1})).status_code for _ in range(10)]
    assert statuses == [200] * 10, statuses
