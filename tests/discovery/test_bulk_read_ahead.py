"""The bulk loader reads a chunk ahead while the database writes the one before it
(docs/decisions/0058-bulk-ingest-read-ahead.md): in-process, on the service's database, to see
that it does read ahead, and that a chunk read ahead is read again when the chunk before it could
not be written as planned (another request wrote one of its accounts meanwhile)."""

import pytest
import pytest_asyncio

from services.discovery.creator import bulk
from shared.db import make_engine, make_sessionmaker
from tests.conftest import unique_handle
from tests.discovery.test_bulk_ingest import line, ndjson

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def sessions(platform):
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"], application_name="test-read-ahead")
    yield make_sessionmaker(engine)
    await engine.dispose()


def spy_on_prepare(monkeypatch, before=None) -> list[tuple[bool, bool]]:
    """Record each chunk's read: (a chunk was ahead, the chunk was read ahead of it)."""
    calls: list[tuple[bool, bool]] = []
    prepare = bulk._prepare

    async def spy(conn, writes, ahead):
        if before is not None:
            await before(len(calls))
        prepared = await prepare(conn, writes, ahead)
        calls.append((ahead is not None, prepared is not None))
        return prepared

    monkeypatch.setattr(bulk, "_prepare", spy)
    return calls


async def test_each_chunk_is_read_while_the_one_before_it_is_not_written_yet(sessions, discovery_db, monkeypatch):
    calls = spy_on_prepare(monkeypatch)
    handles = [unique_handle() for _ in range(1300)]

    async with sessions() as session, session.begin():
        result = await bulk.ingest_lines(session, ndjson(*(line(h) for h in handles)))

    assert (result.created, result.failed) == (1300, 0)
    assert calls == [(False, True), (True, True), (True, True)]
    assert await discovery_db.fetchval(
        "select count(*) from discovery.creators where handle = any($1::text[])", handles) == 1300


async def test_a_chunk_read_ahead_is_read_again_when_the_chunk_before_it_was_retried_line_by_line(
    sessions, gateway, discovery_db, monkeypatch
):
    # Line 6 names a new Instagram account; line 506 a TikTok account of no one yet. Just before
    # the second chunk is read, another request creates one creator with both accounts: the
    # first chunk's copy of the Instagram account is refused, its lines are retried one by one
    # (line 6 now updates that creator), and the second chunk, whose reads saw the creator before
    # line 6 changed it, must not write that older state back over it.
    instagram, tiktok = unique_handle(), unique_handle()
    lines = [line(unique_handle()) for _ in range(520)]
    lines[5] = {"accounts": [{"platform": "instagram", "handle": instagram, "followers": 100}],
                "bio": "Fermentation at home", "city": "Hobart"}
    lines[505] = {"accounts": [{"platform": "tiktok", "handle": tiktok, "followers": 7777}]}

    async def meanwhile(call: int) -> None:
        if call == 1:
            response = await gateway.post("/v1/discovery/creators", json={
                "accounts": [{"platform": "instagram", "handle": instagram, "followers": 50},
                             {"platform": "tiktok", "handle": tiktok, "followers": 60}]})
            assert response.status_code == 201, response.text

    calls = spy_on_prepare(monkeypatch, meanwhile)
    async with sessions() as session, session.begin():
        result = await bulk.ingest_lines(session, ndjson(*lines))

    assert calls == [(False, True), (True, True)]
    assert (result.created, result.updated, result.failed) == (518, 2, 0)
    creator = await discovery_db.fetchrow(
        "select c.bio, c.city, c.followers_total from discovery.creators c"
        " join discovery.accounts a on a.creator_id = c.id where a.platform = 'tiktok' and a.handle = $1", tiktok,
    )
    assert (creator["bio"], creator["city"], creator["followers_total"]) == ("Fermentation at home", "Hobart", 7877)


async def test_a_chunk_sharing_an_account_with_the_chunk_ahead_waits_for_it(sessions, discovery_db, monkeypatch):
    calls = spy_on_prepare(monkeypatch)
    handles = [unique_handle() for _ in range(520)]
    lines = [line(h) for h in handles]
    lines[510] = line(handles[10], followers=55_555)

    async with sessions() as session, session.begin():
        result = await bulk.ingest_lines(session, ndjson(*lines))

    # Read ahead, the second chunk would have planned a second creator for the same account.
    assert calls == [(False, True), (True, False)]
    assert (result.created, result.updated, result.failed) == (519, 1, 0)
    assert await discovery_db.fetchval(
        "select c.follower_count from discovery.creators c join discovery.accounts a on a.creator_id = c.id"
        " where a.platform = 'instagram' and a.handle = $1", handles[10]) == 55_555
