"""The audit bulk routes take a full request through the gateway: a 5,000-line follower sample is
more than the gateway's 1 MiB limit for ordinary routes."""

import json
import uuid

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

NDJSON = {"Content-Type": "application/x-ndjson"}


async def test_a_follower_sample_past_one_mebibyte_reaches_the_audit_service(gateway):
    creator = str(uuid.uuid4())  # unknown to audit: every line is refused by the service, not the gateway
    line = {"creator_id": creator, "username": "x", "full_name": "A" * 200, "biography": "b" * 150,
            "media_count": 1, "follower_count": 2, "following_count": 3}
    body = "\n".join(json.dumps({**line, "username": f"user{i}"}) for i in range(5_000)).encode()
    assert len(body) > 1024 * 1024

    response = await gateway.post("/v1/audit/followers/bulk", content=body, headers=NDJSON)

    assert response.status_code == 200, response.text[:300]
    report = response.json()
    assert report["failed"] == 5_000 and report["errors"][0]["field"] == "creator_id"
