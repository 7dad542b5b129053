"""The read path's fast path (`Reads.fetch` of a `ReadStatement`, and `PagedList`): compiled
once, run with the driver's own `fetch` on a connection of the SQLAlchemy pool, on the real
database. It answers what a request transaction answers for the same statement, keeps the
ReadSession's guarantees (only SELECTs, no transaction left open, a dead pooled connection
retried, SQLAlchemy's errors so a database outage is a 503) and reads JSONB as the ORM does."""

import asyncio
import uuid

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, ProgrammingError

from services.audit.audit import repository as audits
from services.audit.audit.models import Audit
from services.audit.audit.schemas import AuditRead
from services.discovery.creator import repository as creators
from services.discovery.creator.models import Creator
from services.discovery.creator.schemas import CreatorRead
from shared.db import ReadOnlySessionError, Reads, ReadStatement, Row, make_engine, make_sessionmaker, rows
from shared.errors import database_unavailable
from shared.pagination import PageParams
from tests.conftest import ServiceIdentity, unique_handle
from tests.shared.database import restart_postgres, sessions_of

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

BY_HANDLE = ReadStatement(select(Creator).where(Creator.handle == bindparam("handle")))
# A value given in the statement is a default the caller may override.
HANDLES = ReadStatement(
    select(Creator.handle).where(Creator.platform == bindparam("platform", "twitch")).limit(bindparam("n", 1000))
)
# A platform name of the paging test's own (the column is free text; no response is built from
# these rows): its list holds only the rows the test inserts, whatever the suite has stored.
PAGED_PLATFORM = f"fetch-{uuid.uuid4().hex[:8]}"


async def _three_creators(engine, platform: str):
    ids = [uuid.uuid4() for _ in range(3)]
    # Follower counts 0, 1 and unknown: pages cross from values into the NULL tail.
    values = [
        {"id": i, "platform": platform, "handle": unique_handle("fetch"), "follower_count": count}
        for i, count in zip(ids, (0, 1, None), strict=True)
    ]
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(insert(Creator), values)
    yield values
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(delete(Creator).where(Creator.id.in_(ids)))


@pytest_asyncio.fixture
async def creators_in_db(engine):
    async for values in _three_creators(engine, "twitch"):
        yield values


@pytest_asyncio.fixture
async def paged_creators(engine):
    async for values in _three_creators(engine, PAGED_PLATFORM):
        yield values


async def test_fetch_answers_what_a_request_transaction_answers(engine, creators_in_db):
    reads = Reads(engine)
    handle = creators_in_db[0]["handle"]
    async with make_sessionmaker(engine)() as session, session.begin():
        orm = await rows(session, BY_HANDLE, handle=handle)
        handles = await rows(session, HANDLES)
    fetched = await reads.fetch(BY_HANDLE, handle=handle)
    assert isinstance(orm[0], Creator) and isinstance(fetched[0], Row)
    # Same columns, same values, read as attributes either way: the response is built alike.
    assert CreatorRead.of(fetched[0]) == CreatorRead.of(orm[0])
    assert sorted(r.handle for r in await reads.fetch(HANDLES)) == sorted(r.handle for r in handles)
    assert len(await reads.fetch(HANDLES, n=1)) == 1  # the default overridden
    assert await reads.fetch(BY_HANDLE, handle=unique_handle("absent")) == []
    with pytest.raises(AttributeError):
        _ = fetched[0].no_such_column
    with pytest.raises(TypeError, match="handle"):
        await reads.fetch(BY_HANDLE)


async def test_paged_lists_page_alike_through_either_session(engine, paged_creators):
    # Every shape a list builds (first page, after a value, in the NULL tail; each filter) through
    # the fast path and through a Session: the same rows, page after page.
    reads = Reads(engine)
    sessionmaker = make_sessionmaker(engine)
    for platform_filter in (None, PAGED_PLATFORM):
        # Pages of 2 over the filtered list (this test's three rows: values, then the NULL tail);
        # the whole table holds whatever the suite's earlier tests left (thousands of creators in
        # a full run): pages sized to ~25 a walk there, not thousands of pages.
        async with sessionmaker() as session:
            total = await session.scalar(select(func.count()).select_from(Creator).where(
                Creator.platform == platform_filter if platform_filter else text("true")))
        limit = max(2, -(-total // 25))
        for sort in creators.SORTS.names:
            pages = {}
            for name, session_factory in (("fetch", None), ("session", sessionmaker)):
                cursor, seen, walked = None, [], 0
                while True:
                    walked += 1
                    page = PageParams(limit=limit, cursor=cursor)
                    if session_factory is None:
                        found = await creators.list_page(reads, page, sort=sort, platform=platform_filter)
                    else:
                        async with session_factory() as session, session.begin():
                            found = await creators.list_page(session, page, sort=sort, platform=platform_filter)
                    seen += [r.id for r in found[:limit]]
                    cursor = creators.SORTS.next_cursor(found, limit, sort)
                    if cursor is None:
                        break
                pages[name] = seen
                assert walked >= 2, (sort, platform_filter)  # cursors were followed, not one page read
                assert len(set(seen)) == len(seen), (sort, platform_filter)  # no row on two pages
            assert pages["fetch"] == pages["session"], (sort, platform_filter)
            if platform_filter is not None:
                assert limit == 2 and set(pages["fetch"]) == {r["id"] for r in paged_creators}


async def test_read_statements_are_selects(engine):
    with pytest.raises(ReadOnlySessionError):
        ReadStatement(insert(Creator).values(id=uuid.uuid4(), platform="twitch", handle=unique_handle()))
    with pytest.raises(ReadOnlySessionError):
        ReadStatement(update(Creator).values(display_name="changed"))
    with pytest.raises(ReadOnlySessionError):  # not known to be a SELECT
        ReadStatement(text("delete from discovery.creators"))
    with pytest.raises(ValueError, match="expanding"):  # its text changes with the list's length
        ReadStatement(select(Creator.id).where(Creator.id.in_([uuid.uuid4()])))
    declared = ReadStatement(text("select 1 as one").columns())
    assert (await Reads(engine).fetch(declared))[0].one == 1


async def test_fetch_leaves_no_transaction_open(engine, application_name, creators_in_db, discovery_db):
    reads = Reads(engine)
    await asyncio.gather(*[creators.list_page(reads, PageParams(limit=5, cursor=None)) for _ in range(6)])
    broken = ReadStatement(select(text("no_such_column")).select_from(Creator))
    with pytest.raises(ProgrammingError):  # the driver's error as SQLAlchemy's, like every other read
        await reads.fetch(broken)
    sessions = await sessions_of(application_name, discovery_db)
    assert sessions, "the engine's pooled connections should be visible"
    assert all(s["state"] == "idle" and s["xact_start"] is None for s in sessions), sessions


async def test_session_after_fetch_still_gets_a_transaction(engine):
    reads = Reads(engine)
    await asyncio.gather(*[reads.fetch(BY_HANDLE, handle="x") for _ in range(4)])
    ids = [uuid.uuid4(), uuid.uuid4()]
    sessionmaker = make_sessionmaker(engine)

    async def insert_then_roll_back(creator_id: uuid.UUID) -> None:
        async with sessionmaker() as session:
            async with session.begin():
                await session.execute(
                    insert(Creator).values(id=creator_id, platform="twitch", handle=unique_handle("rolled"))
                )
                await asyncio.sleep(0.05)  # both at once, so both pooled connections are in use
                await session.rollback()

    await asyncio.gather(*[insert_then_roll_back(i) for i in ids])
    assert (await reads.scalars(select(Creator.id).where(Creator.id.in_(ids)))).all() == []


async def test_fetch_retries_a_dead_pooled_connection(engine, application_name, creators_in_db, discovery_db):
    reads = Reads(engine)
    handle = creators_in_db[0]["handle"]
    await asyncio.gather(*[reads.fetch(BY_HANDLE, handle=handle) for _ in range(4)])
    killed = await discovery_db.fetchval(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = $1",
        application_name,
    )
    assert killed >= 1
    # The first failure invalidates the whole pool, as SQLAlchemy's own path does: none fails.
    for _ in range(4):
        assert (await reads.fetch(BY_HANDLE, handle=handle))[0].id == creators_in_db[0]["id"]


async def test_audits_read_alike_through_either_session(platform):
    engine = make_engine(platform.service_env("audit")["DATABASE_URL"], pool_size=1)
    audit_id, creator_id = uuid.uuid4(), uuid.uuid4()
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker() as session, session.begin():
            await session.execute(
                insert(Audit).values(
                    id=audit_id, creator_id=creator_id, status="completed", trigger="test", score=0.5, flags=["a", "b"]
                )
            )
        reads = Reads(engine)
        fetched = await audits.get(reads, audit_id)
        assert fetched.flags == ["a", "b"]  # JSONB decoded by the codec the dialect installs
        async with sessionmaker() as session, session.begin():
            orm = await audits.get(session, audit_id)
            orm_page = await audits.list_page(session, PageParams(limit=5, cursor=None), creator_id=creator_id)
        assert AuditRead.model_validate(fetched) == AuditRead.model_validate(orm)
        first = PageParams(limit=5, cursor=None)
        page = await audits.list_page(reads, first, creator_id=creator_id, status="completed")
        assert [AuditRead.model_validate(a) for a in page] == [AuditRead.model_validate(a) for a in orm_page]
        assert await audits.get(reads, uuid.uuid4()) is None
    finally:
        async with sessionmaker() as session, session.begin():
            await session.execute(delete(Audit).where(Audit.id == audit_id))
        await engine.dispose()


async def test_fetch_during_a_database_outage_is_unavailable(platform, engine):
    reads = Reads(engine)
    absent = unique_handle("absent")
    await reads.fetch(BY_HANDLE, handle=absent)
    await asyncio.to_thread(platform.postgres.stop)
    try:
        with pytest.raises(DBAPIError) as raised:
            await reads.fetch(BY_HANDLE, handle=absent)
        assert database_unavailable(raised.value)
        async with httpx.AsyncClient(base_url=platform.s.url("audit"), timeout=30, auth=ServiceIdentity("audit")) as audit:
            for path in ("/audits", f"/audits/{uuid.uuid4()}"):
                response = await audit.get(path)
                assert response.status_code == 503, response.text
                assert response.json()["error"] == "unavailable"
    finally:
        await asyncio.to_thread(restart_postgres, platform)
    assert await reads.fetch(BY_HANDLE, handle=absent) == []
