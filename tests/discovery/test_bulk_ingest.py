"""Bulk NDJSON ingest through the gateway: upsert by platform + handle, per-line errors with line
numbers, the valid lines committed, and a replayed file that changes nothing."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import unique_handle

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
