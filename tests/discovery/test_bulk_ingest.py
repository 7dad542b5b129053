"""Bulk NDJSON ingest through the gateway: upsert by platform + handle, per-line errors with line
numbers, the valid lines committed, and a replayed file that changes nothing."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import eventually, unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

NDJSON = {"Content-Type": "application/x-ndjson"}
OBSERVED = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat()


def line(handle: str, followers: int = 12_000, **extra) -> dict:
    return {
        "accounts": [{"platform": "instagram", "handle": handle, "followers": followers, "observed_at": OBSERVED}],
        "bio": "Trail running and coffee", "niches": ["running"], "languages": ["en"], "country": "NZ",
        "posts": [
            {"external_id": f"{handle}-{i}", "posted_at": OBSERVED, "type": "photo", "caption": f"run {i} #trail",
             "likes": 300 + i, "comments": 5}
            for i in range(3)
        ],
        "audience": {"estimated_at": OBSERVED, "source": "test", "countries": {"NZ": 0.7}},
        **extra,
    }


def ndjson(*items) -> bytes:
    return b"".join((item if isinstance(item, bytes) else json.dumps(item).encode()) + b"\n" for item in items)


async def bulk(gateway, body: bytes):
    return await gateway.post("/v1/discovery/creators/bulk", content=body, headers=NDJSON)


async def outbox_count(db) -> int:
    return await db.fetchval("select count(*) from discovery.outbox")


async def test_valid_lines_are_committed_and_bad_lines_reported_by_number(gateway, discovery_db):
    good, other = unique_handle(), unique_handle()
    bad_date = line(unique_handle())
    bad_date["posts"][2]["posted_at"] = "soon"
    response = await bulk(gateway, ndjson(line(good), b"{not json", bad_date, b"", line(other), {"country": "NZ"}))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"], body["failed"]) == (2, 0, 0, 3)
    errors = {(e["line"], e["field"]) for e in body["errors"]}
    assert (3, "posts.2.posted_at") in errors and (6, "platform") in errors
    assert 2 in {e["line"] for e in body["errors"]}
    stored = await discovery_db.fetch(
        "select handle from discovery.creators where handle = any($1::text[])", [good, other, bad_date["accounts"][0]["handle"]]
    )
    assert {r["handle"] for r in stored} == {good, other}


async def test_the_same_file_twice_changes_nothing_the_second_time(gateway, discovery_db):
    file = ndjson(*(line(unique_handle()) for _ in range(5)))
    first = (await bulk(gateway, file)).json()
    assert first["created"] == 5
    events, points = await outbox_count(discovery_db), await discovery_db.fetchval("select count(*) from discovery.follower_points")
    second = (await bulk(gateway, file)).json()
    assert (second["created"], second["updated"], second["unchanged"], second["failed"]) == (0, 0, 5, 0)
    assert await outbox_count(discovery_db) == events
    assert await discovery_db.fetchval("select count(*) from discovery.follower_points") == points


async def test_a_line_matching_an_existing_account_updates_that_creator(gateway, discovery_db):
    handle, tiktok = unique_handle(), unique_handle()
    creator_id = (await gateway.post("/v1/discovery/creators", json={"platform": "instagram", "handle": handle})).json()["id"]
    update = line(handle, followers=40_000)
    update["accounts"].append({"platform": "tiktok", "handle": tiktok, "followers": 90_000})
    body = (await bulk(gateway, ndjson(update))).json()
    assert (body["created"], body["updated"]) == (0, 1)
    creator = (await gateway.get(f"/v1/discovery/creators/{creator_id}")).json()
    assert (creator["platform"], creator["handle"], creator["follower_count"]) == ("tiktok", tiktok, 90_000)
    assert creator["followers_total"] == 130_000 and len(creator["recent_posts"]) == 3
    event = await discovery_db.fetchrow(
        "select convert_from(value, 'UTF8')::jsonb->'payload' as p from discovery.outbox"
        " where key = $1 and event_type = 'CreatorChanged' order by id desc limit 1", creator_id,
    )
    assert json.loads(event["p"])["audit_needed"] is True


async def test_a_line_naming_accounts_of_two_creators_is_that_lines_error(gateway):
    first, second = unique_handle(), unique_handle()
    for handle in (first, second):
        await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": handle})
    both = {"accounts": [{"platform": "x", "handle": first}, {"platform": "x", "handle": second}]}
    fresh = unique_handle()
    body = (await bulk(gateway, ndjson({"platform": "x", "handle": fresh}, both))).json()
    assert (body["created"], body["failed"]) == (1, 1)
    assert body["errors"][0]["line"] == 2 and body["errors"][0]["field"] == "accounts"


async def test_two_lines_of_one_creator_in_one_file_both_apply(gateway):
    handle = unique_handle()
    first = line(handle, followers=10_000)
    second = {"accounts": [{"platform": "instagram", "handle": handle, "followers": 11_000}], "city": "Nelson"}
    body = (await bulk(gateway, ndjson(first, second))).json()
    assert (body["created"], body["updated"], body["failed"]) == (1, 1, 0)


async def test_a_body_that_is_not_ndjson_is_a_415(gateway):
    response = await gateway.post("/v1/discovery/creators/bulk", json={"platform": "x", "handle": "a"})
    assert response.status_code == 415


async def test_a_line_too_long_is_reported_in_characters(gateway):
    """Found by an outside probe: a 5 MB bio read "at most 5000 items"."""
    response = await bulk(gateway, ndjson(line(unique_handle(), bio="x" * 6000)))
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    assert error["reason"] == "String should have at most 5000 characters", error


async def test_blank_lines_do_not_count_toward_the_line_limit(gateway):
    """10,000 lines with a creator (each refused alone here, so that nothing is written) and blank
    lines between them are one request; one line more is a 413."""
    full = b"\n\r\n".join([b"{}"] * 10_000) + b"\n\n"
    response = await bulk(gateway, full)
    assert response.status_code == 200, response.text[:300]
    assert [e["line"] for e in response.json()["errors"][:3]] == [1, 3, 5]  # numbered as sent, blanks included
    response = await bulk(gateway, full + b"{}\n")
    assert response.status_code == 413 and "10000 lines" in response.text


async def test_a_file_of_two_chunks_commits_its_valid_lines_and_a_replay_changes_nothing(gateway, discovery_db):
    # Past CHUNK_LINES (500), so the second chunk is validated while the first is written, and
    # past SMALL_BATCH, so both go through the staging tables.
    handles = [unique_handle() for _ in range(520)]
    lines = [line(handle, followers=10_000 + i) for i, handle in enumerate(handles)]
    lines[6]["posts"][0]["posted_at"] = "soon"
    items = [*lines[:514], b"{not json", *lines[515:]]
    file = ndjson(*items)
    written = [h for i, h in enumerate(handles) if i not in (6, 514)]

    first = (await bulk(gateway, file)).json()

    assert (first["created"], first["updated"], first["unchanged"], first["failed"]) == (518, 0, 0, 2)
    assert [(e["line"], e["field"]) for e in first["errors"]] == [(7, "posts.0.posted_at"), (515, None)]
    stored = await discovery_db.fetch(
        "select c.handle, c.follower_count, (select count(*) from discovery.posts p where p.creator_id = c.id) as posts,"
        " c.document @@ to_tsquery('simple', 'trail') as searchable"
        " from discovery.creators c where c.handle = any($1::text[])", handles,
    )
    assert {r["handle"] for r in stored} == set(written)
    assert all(r["posts"] == 3 and r["searchable"] for r in stored)
    assert {r["handle"]: r["follower_count"] for r in stored}[handles[519]] == 10_519
    events, points = await outbox_count(discovery_db), await discovery_db.fetchval("select count(*) from discovery.follower_points")

    replay = (await bulk(gateway, file)).json()

    assert (replay["created"], replay["updated"], replay["unchanged"], replay["failed"]) == (0, 0, 518, 2)
    assert await outbox_count(discovery_db) == events
    assert await discovery_db.fetchval("select count(*) from discovery.follower_points") == points

    grown = [line(h, followers=20_000) for h in written]
    update = (await bulk(gateway, ndjson(*grown))).json()

    assert (update["created"], update["updated"], update["failed"]) == (0, 518, 0)
    counts = await discovery_db.fetch("select follower_count from discovery.creators where handle = any($1::text[])", written)
    assert {r["follower_count"] for r in counts} == {20_000}


async def test_a_replay_after_the_worker_embedded_posts_of_one_instant_is_unchanged(gateway, discovery_db):
    # Posts published at the same instant: the captions' order (hence the embedding text hash the
    # worker stores) must be the one ingest computes, or every replay would look like a change
    # and send the creator back to the embedding queue.
    handles = [unique_handle() for _ in range(4)]
    file = ndjson(*(line(h) for h in handles))
    assert (await bulk(gateway, file)).json()["created"] == 4

    async def embedded():
        stale = await discovery_db.fetchval(
            "select count(*) from discovery.creators where handle = any($1::text[]) and embedding_stale", handles
        )
        return stale == 0

    await eventually(embedded, timeout=120)
    events = await outbox_count(discovery_db)

    replay = (await bulk(gateway, file)).json()

    assert (replay["created"], replay["updated"], replay["unchanged"]) == (0, 0, 4)
    assert await outbox_count(discovery_db) == events
    assert not await discovery_db.fetchval(
        "select bool_or(embedding_stale) from discovery.creators where handle = any($1::text[])", handles
    )


# A chunk is read and planned while the database still writes the chunk before it
# (docs/decisions/0058-bulk-ingest-read-ahead.md). These files are two chunks long (CHUNK_LINES
# is 500), so the second chunk is the one read ahead.

async def test_a_handle_of_the_first_chunk_again_in_the_second_updates_the_creator_the_first_made(gateway, discovery_db):
    handles = [unique_handle() for _ in range(520)]
    lines = [line(handle) for handle in handles]
    again = line(handles[10], followers=55_555, city="Dunedin")
    again["posts"] = [{"external_id": f"{handles[10]}-late", "posted_at": OBSERVED, "type": "reel", "caption": "late"}]
    lines[510] = again

    body = (await bulk(gateway, ndjson(*lines))).json()

    assert (body["created"], body["updated"], body["failed"]) == (519, 1, 0), body
    rows = await discovery_db.fetch(
        "select c.id, c.follower_count, c.city, (select count(*) from discovery.posts p where p.creator_id = c.id) as posts"
        " from discovery.creators c join discovery.accounts a on a.creator_id = c.id"
        " where a.platform = 'instagram' and a.handle = $1", handles[10],
    )
    assert [(r["follower_count"], r["city"], r["posts"]) for r in rows] == [(55_555, "Dunedin", 4)]


async def test_one_stored_creator_named_by_two_accounts_in_two_chunks_gets_both_writes(gateway, discovery_db):
    instagram, tiktok = unique_handle(), unique_handle()
    created = await gateway.post("/v1/discovery/creators", json={
        "accounts": [{"platform": "instagram", "handle": instagram, "followers": 1000},
                     {"platform": "tiktok", "handle": tiktok, "followers": 2000}]})
    creator_id = created.json()["id"]
    lines = [line(unique_handle()) for _ in range(520)]
    lines[3] = {"accounts": [{"platform": "instagram", "handle": instagram, "followers": 1500}], "city": "Napier"}
    lines[505] = {"accounts": [{"platform": "tiktok", "handle": tiktok, "followers": 2500}], "bio": "Kites and surf"}

    body = (await bulk(gateway, ndjson(*lines))).json()

    assert (body["created"], body["updated"], body["failed"]) == (518, 2, 0), body
    creator = (await gateway.get(f"/v1/discovery/creators/{creator_id}")).json()
    assert (creator["city"], creator["bio"], creator["followers_total"]) == ("Napier", "Kites and surf", 4000)


async def test_a_chunk_the_database_refuses_is_retried_line_by_line_and_the_chunk_read_ahead_still_lands(gateway, discovery_db):
    # Fault injection: a trigger refuses one account, as a unique key would refuse an account
    # another request wrote meanwhile. The first chunk's rows are refused while the second is
    # already read and planned.
    handles = [unique_handle() for _ in range(520)]
    refused = handles[42]
    name = f"test_refuse_{refused}"
    async with discovery_db.acquire() as conn:
        await conn.execute(f"""
            CREATE FUNCTION discovery.{name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.handle = '{refused}' THEN RAISE unique_violation USING MESSAGE = 'refused by the test'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {name} BEFORE INSERT ON discovery.accounts FOR EACH ROW EXECUTE FUNCTION discovery.{name}();
        """)
    try:
        body = (await bulk(gateway, ndjson(*(line(handle) for handle in handles)))).json()
    finally:
        async with discovery_db.acquire() as conn:
            await conn.execute(f"DROP TRIGGER {name} ON discovery.accounts; DROP FUNCTION discovery.{name}()")

    assert (body["created"], body["failed"]) == (519, 1), body
    assert body["errors"][0]["line"] == 43 and "send it again" in body["errors"][0]["reason"]
    stored = await discovery_db.fetch(
        "select c.handle, (select count(*) from discovery.posts p where p.creator_id = c.id) as posts,"
        " (select array_agg(o.sequence order by o.id) from discovery.outbox o where o.key = c.id::text) as events"
        " from discovery.creators c where c.handle = any($1::text[])", handles,
    )
    assert {r["handle"] for r in stored} == set(handles) - {refused}
    # created, posts observed, follower counts observed, audience estimated: once each, in order
    assert all(r["posts"] == 3 and r["events"] == [1, 2, 3, 4] for r in stored)
