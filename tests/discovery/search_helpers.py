"""Helpers of the search tests: a niche of one's own (every test shares the database) and the
search call through the gateway."""

import uuid

SEARCH = "/v1/discovery/search"
CREATORS = "/v1/discovery/creators"
MENTIONS = "/v1/discovery/mentions"


def own_niche() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


async def search(gateway, **body) -> dict:
    response = await gateway.post(SEARCH, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def ids(result: dict) -> list[uuid.UUID]:
    return [uuid.UUID(item["id"]) for item in result["items"]]


def fields(response) -> set[str]:
    return {d["field"] for d in response.json()["detail"]}
