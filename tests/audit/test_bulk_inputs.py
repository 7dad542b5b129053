"""Audit's NDJSON bulk routes: each bad line reported by number, field and reason; valid lines
committed; the same body sent again changes nothing; bounds and scopes enforced."""

import pytest

from tests.audit.flow import NDJSON, creator_body, followers, ingest_creator, post_comments, post_followers
from tests.conftest import bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

UNKNOWN = "00000000-0000-4000-8000-00000000abcd"


async def test_bad_follower_lines_are_reported_and_the_valid_ones_stored(gateway, audit_db):
    creator = await ingest_creator(gateway, creator_body(posts=0, points=0))
    good = followers(creator["id"], 3)
    lines = [
        good[0],
        "{not json",
        {**good[1], "follower_count": -4},
        {"creator_id": UNKNOWN, "username": "nobody"},
        good[1],
        {**good[0], "full_name": "the same username again"},
        {"creator_id": creator["id"]},
        "",
        good[2],
        {**good[2], "username": "x", "is_private": "yes"},
    ]
    result = await post_followers(gateway, lines)
    assert result["stored"] == 3 and result["failed"] == 6
    errors = {(e["line"], e["field"]) for e in result["errors"]}
    assert {(2, None), (3, "follower_count"), (4, "creator_id"), (6, "username"), (7, "username"),
            (10, "is_private")} <= errors, result["errors"]
    assert [e["line"] for e in result["errors"]] == sorted(e["line"] for e in result["errors"])
    [sample] = result["samples"]
    assert (sample["creator_id"], sample["size"], sample["status"]) == (creator["id"], 3, "created")
    stored = await audit_db.fetch(
        "select username, follower_count from audit.sample_followers where sample_id = $1::uuid order by username",
        sample["sample_id"],
    )
    assert [r["username"] for r in stored] == sorted(f["username"] for f in good)


async def test_the_same_sample_again_adds_no_version_and_a_new_one_replaces_it(gateway, audit_db):
    creator = await ingest_creator(gateway, creator_body(posts=0, points=0))
    first = await post_followers(gateway, followers(creator["id"], 4))
    replay = await post_followers(gateway, list(reversed(followers(creator["id"], 4))))  # order does not matter
    assert (replay["stored"], replay["unchanged"]) == (0, 4)
    assert replay["samples"][0]["sample_id"] == first["samples"][0]["sample_id"]
    assert replay["samples"][0]["status"] == "unchanged"

    newer = await post_followers(gateway, followers(creator["id"], 6))
    assert newer["samples"][0]["status"] == "created"
    held = (await gateway.get(f"/v1/audit/creators/{creator['id']}")).json()["follower_sample"]
    assert (held["id"], held["size"]) == (newer["samples"][0]["sample_id"], 6)
    versions = await audit_db.fetchval("select count(*) from audit.follower_samples where creator_id = $1::uuid", creator["id"])
    assert versions == 2  # the old version stays: a past audit says which one it read


async def test_bad_comment_lines_are_reported_and_a_replay_changes_nothing(gateway):
    # Post ids of its own: line 9 finds a post by platform and id, which another test's creator
    # with creator_body's "p0", "p1" would make ambiguous (a failure that depends on test order).
    body = creator_body(posts=2, points=0)
    for post in body["posts"]:
        post["external_id"] = f"{body['accounts'][0]['handle']}-{post['external_id']}"
    creator = await ingest_creator(gateway, body)
    posts = (await gateway.get(f"/v1/discovery/creators/{creator['id']}/posts")).json()["items"]
    lines = [
        {"post_id": posts[0]["id"], "author": "@Someone", "text": "nice", "commented_at": "2026-11-01T10:00:00Z"},
        {"post_id": UNKNOWN, "author": "a", "text": "x"},
        {"platform": "instagram", "post_external_id": "no-such-post", "author": "a", "text": "x"},
        {"post_id": posts[0]["id"], "platform": "instagram", "post_external_id": "p0", "author": "a", "text": "x"},
        {"platform": "instagram", "author": "a", "text": "x"},
        {"post_id": posts[1]["id"], "author": "a", "text": "from the future", "commented_at": "2999-01-01T00:00:00Z"},
        {"post_id": posts[1]["id"], "author": "a", "text": "naive time", "commented_at": "2026-11-01T10:00:00"},
        {"post_id": posts[1]["id"], "author": "two words", "text": "x"},
        {"platform": "instagram", "post_external_id": posts[1]["external_id"], "author": "b", "text": "🔥"},
        {"post_id": posts[1]["id"], "author": "c", "text": ""},
    ]
    result = await post_comments(gateway, lines)
    assert (result["created"], result["unchanged"], result["failed"]) == (2, 0, 8), result
    errors = {(e["line"], e["field"]) for e in result["errors"]}
    assert {(2, "post_id"), (3, "post_external_id"), (4, "post_id"), (5, "post_external_id"), (6, "commented_at"),
            (7, "commented_at"), (8, "author"), (10, "text")} <= errors, result["errors"]

    again = await post_comments(gateway, lines)
    assert (again["created"], again["unchanged"], again["failed"]) == (0, 2, 8)
    held = (await gateway.get(f"/v1/audit/creators/{creator['id']}")).json()
    assert held["comments"] == 2


async def test_bodies_past_the_bounds_or_of_another_type_are_refused(gateway):
    too_many = "\n" * 10_001
    answer = await gateway.post("/v1/audit/comments/bulk", content=too_many, headers=NDJSON)
    assert answer.status_code == 413 and answer.json()["detail"][0]["field"] == "body"
    answer = await gateway.post("/v1/audit/followers/bulk", content="\n" * 5_001, headers=NDJSON)
    assert answer.status_code == 413
    answer = await gateway.post("/v1/audit/followers/bulk", json=[{"username": "a"}])
    assert answer.status_code == 415 and answer.json()["detail"][0]["field"] == "header.content-type"
    empty = await gateway.post("/v1/audit/followers/bulk", content="", headers=NDJSON)
    assert empty.status_code == 200 and empty.json() == {"stored": 0, "unchanged": 0, "failed": 0, "samples": [], "errors": []}


async def test_routes_need_their_scope(gateway, anonymous):
    reader = (await gateway.post("/v1/keys", json={"name": "audit reader", "scopes": ["audits:read"]})).json()["key"]
    for method, path in (
        ("post", "/v1/audit/followers/bulk"),
        ("post", "/v1/audit/comments/bulk"),
        ("post", "/v1/audit/audits"),
        ("get", "/v1/audit/pods"),
        ("get", f"/v1/audit/creators/{UNKNOWN}/audits"),
    ):
        assert (await anonymous.request(method.upper(), path)).status_code == 401, path
    for path in ("/v1/audit/followers/bulk", "/v1/audit/comments/bulk"):
        answer = await anonymous.post(path, content="", headers={**NDJSON, **bearer(reader)})
        assert answer.status_code == 403, path
    answer = await anonymous.post("/v1/audit/audits", json={"creator_id": UNKNOWN}, headers=bearer(reader))
    assert answer.status_code == 403
    listed = await anonymous.get("/v1/audit/pods", headers=bearer(reader))
    assert listed.status_code == 200
