"""Helpers of the audit service's tests: a creator ingested through discovery, waited for in
audit's projection, and its data sent through audit's bulk API."""

import json
from datetime import UTC, datetime, timedelta

from tests.conftest import eventually, unique_handle

NDJSON = {"Content-Type": "application/x-ndjson"}
DAY = timedelta(days=1)


def ndjson(lines) -> str:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def creator_body(*, posts: int = 5, points: int = 6, followers: int = 20_000, handle: str | None = None) -> dict:
    """A creator with `posts` posts and `points` follower-count observations, one a day."""
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "accounts": [{"platform": "instagram", "handle": handle or unique_handle(), "followers": followers,
                      "following": 300, "posts_count": 400}],
        "posts": [
            {"external_id": f"p{i}", "posted_at": (now - (i + 1) * DAY).isoformat(), "type": "photo",
             "caption": f"day {i} at the market", "likes": 600 + 10 * i, "comments": 20 + i}
            for i in range(posts)
        ],
        "follower_points": [
            {"observed_at": (now - (points - i) * DAY).isoformat(), "followers": followers - 50 * (points - i)}
            for i in range(points)
        ],
    }


async def ingest_creator(gateway, body: dict) -> dict:
    """The creator created in discovery, once audit's projection holds its posts and points."""
    created = await gateway.post("/v1/discovery/creators", json=body)
    assert created.status_code == 201, created.text
    creator = created.json()
    posts = len(body.get("posts", []))

    async def projected():
        held = await gateway.get(f"/v1/audit/creators/{creator['id']}")
        return held.json() if held.status_code == 200 and held.json()["posts"] == posts else None

    await eventually(projected)
    return creator


def followers(creator_id: str, count: int, *, mass: int = 0) -> list[dict]:
    """`count` sampled followers; the first `mass` follow more than 1,500 accounts."""
    return [
        {"creator_id": creator_id, "username": f"follower_{i}_{creator_id[:8]}", "full_name": f"Person {i}",
         "biography": "coffee and trains", "media_count": 40 + i, "follower_count": 200 + i,
         "following_count": 4000 if i < mass else 300 + i, "has_profile_pic": True, "is_private": False,
         "is_verified": False, "external_url": None}
        for i in range(count)
    ]


async def post_followers(gateway, lines) -> dict:
    response = await gateway.post("/v1/audit/followers/bulk", content=ndjson(lines), headers=NDJSON)
    assert response.status_code == 200, response.text
    return response.json()


async def post_comments(gateway, lines) -> dict:
    response = await gateway.post("/v1/audit/comments/bulk", content=ndjson(lines), headers=NDJSON)
    assert response.status_code == 200, response.text
    return response.json()


async def finished(gateway, audit_id: str, timeout: float = 30) -> dict:
    async def done():
        body = (await gateway.get(f"/v1/audit/audits/{audit_id}")).json()
        return body if body["status"] in ("completed", "failed") else None

    return await eventually(done, timeout=timeout)


async def discovery_audit(gateway, creator_id: str, audit_id: str, status: str) -> dict:
    """Discovery's view of the creator's audit, once it shows `audit_id` in `status`."""

    async def projected():
        audit = (await gateway.get(f"/v1/discovery/creators/{creator_id}")).json()["audit"]
        return audit if audit["audit_id"] == audit_id and audit["status"] == status else None

    return await eventually(projected)
