"""A valid ISO 8601 time whose instant in UTC falls outside years 1..9999 (9999-12-31T23:59:59-14:00
is in year 10000 in UTC; 0001-01-01T00:00:00+14:00 in year 0) cannot be held by Python's datetime
nor sent to PostgreSQL, which works in UTC: each was a 500 wherever the API took a time. It is a
422 naming the field everywhere (shared/validation.py `in_utc`), as `POST /v1/keys` already did."""

import json
import uuid

import pytest

from tests.attribution.test_campaign_deals import campaign, enrol
from tests.conftest import unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

HIGH = "9999-12-31T23:59:59-14:00"
LOW = "0001-01-01T00:00:00+14:00"


def refused_naming(response, field: str) -> bool:
    return response.status_code == 422 and any(d["field"] == field for d in response.json()["detail"])


async def test_a_time_past_the_utc_years_is_a_422_naming_the_field_wherever_a_time_is_taken(gateway):
    made = await campaign(gateway)
    creator = (await enrol(gateway, made["id"]))["creator_id"]
    indexed = await gateway.post("/v1/discovery/creators", json={"platform": "instagram", "handle": unique_handle()})
    assert indexed.status_code in (200, 201), indexed.text
    indexed_id = indexed.json()["id"]
    for when in (HIGH, LOW):
        cases = [
            (await gateway.get(f"/v1/attribution/campaigns/{made['id']}/rules/current", params={"at": when}), "query.at"),
            (await gateway.get(f"/v1/discovery/creators/{indexed_id}/followers", params={"since": when}), "query.since"),
            (await gateway.get("/v1/discovery/mentions", params={"brand": "nike", "since": when}), "query.since"),
            (await gateway.get("/v1/discovery/mentions", params={"brand": "nike", "until": when}), "query.until"),
            (await gateway.post("/v1/attribution/codes", json={
                "campaign_id": made["id"], "creator_id": creator, "code": f"T{uuid.uuid4().hex[:8]}", "expires_at": when}),
             "body.expires_at"),
            (await gateway.post("/v1/attribution/links", json={
                "campaign_id": made["id"], "creator_id": creator, "destination": "https://shop.example/",
                "expires_at": when}), "body.expires_at"),
            (await gateway.post(f"/v1/attribution/campaigns/{made['id']}/activations", json={
                "creator_id": creator, "platform": "instagram", "format": "reel",
                "url": f"https://www.instagram.com/reel/{uuid.uuid4().hex[:10]}/", "posted_at": when}), "body.posted_at"),
            (await gateway.post("/v1/discovery/creators", json={
                "platform": "instagram", "handle": unique_handle(), "follower_points": [{"observed_at": when, "followers": 5}]}),
             "body.follower_points.0.observed_at"),
        ]
        for response, field in cases:
            assert refused_naming(response, field), (when, field, response.status_code, response.text[:300])


async def test_a_bulk_line_with_such_a_time_fails_alone_and_a_leading_byte_order_mark_costs_no_line(gateway):
    """Bulk ingest took the whole file down with a 500 for one such line (nothing committed), and
    read a UTF-8 byte-order mark as the start of line 1's JSON."""
    ndjson = {"Content-Type": "application/x-ndjson"}
    good, bad, marked = unique_handle(), unique_handle(), unique_handle()
    bad_line = {"platform": "instagram", "handle": bad, "posts": [
        {"external_id": "1", "posted_at": LOW, "type": "photo", "caption": "x", "likes": 1, "comments": 1}]}
    body = "\n".join(json.dumps(x) for x in ({"platform": "instagram", "handle": good}, bad_line)).encode()
    answer = await gateway.post("/v1/discovery/creators/bulk", content=body, headers=ndjson)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["created"], result["failed"]) == (1, 1), result
    assert [(e["line"], e["field"]) for e in result["errors"]] == [(2, "posts.0.posted_at")], result

    marked_body = b"\xef\xbb\xbf" + json.dumps({"platform": "instagram", "handle": marked}).encode() + b"\n"
    answer = await gateway.post("/v1/discovery/creators/bulk", content=marked_body, headers=ndjson)
    assert answer.status_code == 200 and answer.json()["created"] == 1, answer.text
