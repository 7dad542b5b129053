"""Inputs an independent review found answered with a 500: each is now a 4xx naming the field,
through the running gateway, or (for the address buckets) the rule as written."""

import base64
import json
import uuid

import pytest

from services.gateway.traffic.ratelimit import client_address

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def cursor(sort: str, value, row_id=None) -> str:
    raw = json.dumps({"v": 1, "s": sort, "k": [value, row_id or str(uuid.uuid4())]}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "path, sort, value",
    [
        ("/v1/keys", "created_at", "9999-12-31T23:59:59-14:00"),
        ("/v1/discovery/creators", "created_at", "0001-01-01T00:00:00+14:00"),
        ("/v1/attribution/campaigns", "created_at", "9999-12-31T23:59:59-14:00"),
        ("/v1/discovery/creators?sort=follower_count", "follower_count", 2**70),
    ],
)
async def test_a_cursor_past_what_the_database_holds_is_a_422(gateway, path, sort, value):
    response = await gateway.get(path, params={"cursor": cursor(sort, value)})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "query.cursor"


async def test_a_key_expiry_past_year_9999_in_utc_is_a_422(gateway):
    response = await gateway.post(
        "/v1/keys",
        json={"name": "far future", "scopes": ["discovery:read"], "expires_at": "9999-12-31T23:59:59-14:00"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "body.expires_at"


async def test_ipv6_clients_share_the_bucket_of_their_64():
    def scope(address: str) -> dict:
        return {"client": (address, 50000)}

    assert client_address(scope("2001:db8::1")) == client_address(scope("2001:db8::ffff:1")) == "2001:db8::/64"
    assert client_address(scope("2001:db8:0:1::1")) != client_address(scope("2001:db8::1"))
    assert client_address(scope("203.0.113.7")) == "203.0.113.7"
    assert client_address({}) == "unknown"
