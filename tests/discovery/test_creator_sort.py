"""GET /v1/discovery/creators?sort=…, through the gateway: every sort pages in its order, rows
written while a client pages are never repeated nor make it skip existing rows, and a cursor
of another sort is refused."""

import uuid
from datetime import datetime

import pytest

from tests.conftest import unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CREATORS = "/v1/discovery/creators"


async def create(gateway, platform: str, follower_count: int | None) -> dict:
    response = await gateway.post(
        CREATORS, json={"platform": platform, "handle": unique_handle(), "follower_count": follower_count}
    )
    assert response.status_code == 201
    return response.json()


async def page_through(gateway, platform: str, sort: str, limit: int, between_pages=None) -> list[dict]:
    seen, cursor = [], None
    while True:
        params = {"platform": platform, "sort": sort, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await gateway.get(CREATORS, params=params)
        assert response.status_code == 200, response.text
        seen += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen
        if between_pages is not None:
            await between_pages()


def in_order(items: list[dict], field: str, descending: bool) -> bool:
    """Values in the sort's direction, ties broken by id in the same direction, NULLs last."""
    parse = datetime.fromisoformat if field == "created_at" else (lambda value: value)
    keys = [(item[field] is None, item[field] and parse(item[field]), uuid.UUID(item["id"])) for item in items]
    for (a_null, a, a_id), (b_null, b, b_id) in zip(keys, keys[1:]):
        if a_null != b_null:
            if a_null:
                return False
            continue
        pair = (a_id, b_id) if a_null else ((a, a_id), (b, b_id))
        if (pair[0] < pair[1]) == descending or pair[0] == pair[1]:
            return False
    return True


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "follower_count", "-follower_count"])
async def test_every_sort_pages_through_all_creators_in_its_order(gateway, sort):
    platform = "snapchat"
    for count in (5, None, 5, 0, 900, None, 5):
        await create(gateway, platform, count)
    items = await page_through(gateway, platform, sort, limit=2)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))
    assert in_order(items, sort.lstrip("-"), sort.startswith("-"))


async def test_the_default_sort_is_oldest_first(gateway):
    first, second = await create(gateway, "facebook", 2), await create(gateway, "facebook", 1)
    params = {"platform": "facebook", "limit": 200}
    default = (await gateway.get(CREATORS, params=params)).json()["items"]
    explicit = (await gateway.get(CREATORS, params={**params, "sort": "created_at"})).json()["items"]
    default, explicit = [i["id"] for i in default], [i["id"] for i in explicit]
    assert default == explicit
    assert default.index(first["id"]) < default.index(second["id"])


async def test_creators_added_while_paging_neither_repeat_nor_hide_existing_ones(gateway, discovery_db):
    platform = "twitch"
    for count in (10, 20, 30, None, 40, 20, 50):
        await create(gateway, platform, count)
    existing = await discovery_db.fetch("select id from discovery.creators where platform = $1", platform)
    before = {str(row["id"]) for row in existing}
    counts = iter([60, 25, None, 5, 35, 15, 45, 0] * 10)

    async def two_more():
        await create(gateway, platform, next(counts))
        await create(gateway, platform, next(counts))

    items = await page_through(gateway, platform, "-follower_count", limit=2, between_pages=two_more)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))
    assert before <= set(ids)
    assert in_order(items, "follower_count", descending=True)


async def test_a_cursor_of_another_sort_is_a_422_naming_the_cursor(gateway):
    for count in (1, 2, 3):
        await create(gateway, "x", count)
    first = await gateway.get(CREATORS, params={"sort": "follower_count", "limit": 1})
    cursor = first.json()["next_cursor"]
    response = await gateway.get(CREATORS, params={"sort": "-follower_count", "limit": 1, "cursor": cursor})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["detail"]] == ["query.cursor"]


async def test_an_unknown_sort_is_a_422_naming_the_sort(gateway):
    response = await gateway.get(CREATORS, params={"sort": "handle"})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["detail"]] == ["query.sort"]
