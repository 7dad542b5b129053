"""GET /v1/discovery/mentions through the gateway: the creators who mentioned a brand handle or
used a branded hashtag in a period, with counts and latest posts; sponsored ones; pages; 422s."""

from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from tests.conftest import unique_handle
from tests.discovery.factory import insert_creator
from tests.discovery.search_helpers import MENTIONS, fields

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

NOW = datetime.now(UTC)


async def mentions(gateway, **params) -> dict:
    response = await gateway.get(MENTIONS, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def by_creator(page: dict) -> dict[str, dict]:
    return {item["creator"]["id"]: item for item in page["items"]}


@pytest_asyncio.fixture
async def brand(discovery_db):
    """A brand with a fan (two mentions, one sponsored), a hashtag user, and a bystander."""
    handle, tag = unique_handle("brand"), unique_handle("tag")
    fan = await insert_creator(discovery_db, posts=[
        {"caption": f"Morning run with @{handle}", "posted_at": NOW - timedelta(days=2)},
        {"caption": f"New shoes from @{handle} #ad", "posted_at": NOW - timedelta(days=20)},
        {"caption": "Rest day", "posted_at": NOW - timedelta(days=1)},
    ])
    tagger = await insert_creator(discovery_db, posts=[
        {"caption": f"Race day #{tag}", "posted_at": NOW - timedelta(days=5), "paid_partnership": True},
    ])
    await insert_creator(discovery_db, posts=[{"caption": "Nothing to see #running"}])
    return {"handle": handle, "tag": tag, "fan": str(fan), "tagger": str(tagger)}


async def test_creators_who_mentioned_a_brand_come_with_counts_and_latest_posts(gateway, brand):
    page = await mentions(gateway, brand=f"@{brand['handle'].upper()}")
    assert list(by_creator(page)) == [brand["fan"]]
    item = page["items"][0]
    assert (item["posts"], item["sponsored_posts"]) == (2, 1)
    assert [p["caption"] for p in item["latest_posts"]] == [
        f"Morning run with @{brand['handle']}", f"New shoes from @{brand['handle']} #ad",
    ]
    assert [p["sponsored"] for p in item["latest_posts"]] == [False, True]
    assert page["next_cursor"] is None


async def test_a_brand_and_its_hashtag_together_list_both_newest_first(gateway, brand):
    page = await mentions(gateway, brand=brand["handle"], hashtag=f"#{brand['tag']}")
    assert list(by_creator(page)) == [brand["fan"], brand["tagger"]]


async def test_sponsored_shows_only_paid_posts_and_who_made_them(gateway, brand):
    page = await mentions(gateway, brand=brand["handle"], hashtag=brand["tag"], sponsored="true")
    found = by_creator(page)
    assert set(found) == {brand["fan"], brand["tagger"]}
    assert (found[brand["fan"]]["posts"], found[brand["fan"]]["sponsored_posts"]) == (1, 1)
    assert found[brand["tagger"]]["latest_posts"][0]["paid_partnership"] is True


async def test_the_period_bounds_the_posts_counted(gateway, brand):
    page = await mentions(gateway, brand=brand["handle"], since=(NOW - timedelta(days=10)).isoformat())
    assert page["items"][0]["posts"] == 1
    page = await mentions(gateway, brand=brand["handle"], until=(NOW - timedelta(days=10)).isoformat())
    assert page["items"][0]["posts"] == 1 and page["items"][0]["sponsored_posts"] == 1
    assert (await mentions(gateway, brand=brand["handle"], since=NOW.isoformat()))["items"] == []


async def test_pages_cover_every_creator_once(gateway, discovery_db):
    tag = unique_handle("tag")
    made = {str(await insert_creator(discovery_db, posts=[{"caption": f"#{tag}", "posted_at": NOW - timedelta(hours=h)}]))
            for h in (1, 2, 2, 3, 4)}
    seen, cursor = [], None
    while True:
        page = await mentions(gateway, hashtag=tag, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += list(by_creator(page))
        # a creator posting the hashtag while the client pages is after the frozen period
        await insert_creator(discovery_db, posts=[{"caption": f"#{tag}", "posted_at": datetime.now(UTC)}])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == len(made) and set(seen) == made


async def test_the_search_filters_by_mention_too(gateway, brand):
    response = await gateway.post(
        "/v1/discovery/search", json={"filters": {"mentions": brand["handle"], "sponsored_only": True}}
    )
    assert [item["id"] for item in response.json()["items"]] == [brand["fan"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "query.brand"),
        ({"sponsored": "true"}, "query.brand"),
        ({"brand": "x", "since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "query.since"),
        ({"brand": "x", "since": "2026-01-01T00:00:00"}, "query.since"),
        ({"brand": "two words"}, "query.brand"),
        ({"hashtag": "#"}, "query.hashtag"),
        ({"brand": "x", "limit": "0"}, "query.limit"),
        ({"brand": "x", "cursor": "nope"}, "query.cursor"),
        ({"brand": "x", "colour": "red"}, "query.colour"),
    ],
)
async def test_a_bad_mentions_query_is_a_422_naming_the_parameter(gateway, params, field):
    response = await gateway.get(MENTIONS, params=params)
    assert response.status_code == 422, response.text
    assert fields(response) == {field}


async def test_a_post_saying_it_is_not_an_ad_is_not_counted_as_sponsored(gateway):
    brand_handle = unique_handle("brand")
    creator = {
        "accounts": [{"platform": "instagram", "handle": unique_handle(), "followers": 12000}],
        "posts": [
            {"external_id": "n1", "posted_at": (NOW - timedelta(days=1)).isoformat(), "type": "photo",
             "caption": f"Not #ad, I bought these from @{brand_handle} myself"},
            {"external_id": "s1", "posted_at": (NOW - timedelta(days=3)).isoformat(), "type": "photo",
             "caption": f"Thanks @{brand_handle} #ad"},
        ],
    }
    response = await gateway.post("/v1/discovery/creators", json=creator)
    assert response.status_code == 201, response.text
    page = await mentions(gateway, brand=brand_handle)
    assert (page["items"][0]["posts"], page["items"][0]["sponsored_posts"]) == (2, 1)
    assert [p["sponsored"] for p in page["items"][0]["latest_posts"]] == [False, True]
