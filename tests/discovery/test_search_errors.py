"""Refused searches through the gateway: unknown, out-of-range and contradictory filters, and a
bad sort, query, mode or cursor are each a 422 naming the field."""

import pytest

from tests.discovery.factory import insert_creator
from tests.discovery.search_helpers import CREATORS, SEARCH, fields, own_niche

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filters": {"followerz_min": 1}}, "body.filters.followerz_min"),
        ({"colour": "red"}, "body.colour"),
        ({"filters": {"followers_min": 50_000, "followers_max": 10}}, "body.filters.followers_min"),
        ({"filters": {"followers_min": -1}}, "body.filters.followers_min"),
        ({"filters": {"engagement_rate_min": 5, "engagement_rate_max": 1}}, "body.filters.engagement_rate_min"),
        ({"filters": {"growth_90d_min": 10, "growth_90d_max": -10}}, "body.filters.growth_90d_min"),
        ({"filters": {"tier": ["nano"], "followers_min": 50_000}}, "body.filters.tier"),
        ({"filters": {"tier": ["giga"]}}, "body.filters.tier.0"),
        ({"filters": {"tier": ["micro", "micro"]}}, "body.filters.tier"),
        ({"filters": {"platform": ["tiktok", "youtube", "tiktok"]}}, "body.filters.platform"),
        ({"filters": {"country": ["usa"]}}, "body.filters.country.0"),
        ({"filters": {"audience_country": ["US"]}}, "body.filters.audience_country.0"),
        ({"filters": {"audience_country": ["US:60", "GB:50"]}}, "body.filters.audience_country"),
        ({"filters": {"audience_age": ["18-24:10", "18-24:20"]}}, "body.filters.audience_age"),
        ({"filters": {"audience_gender": ["robot:10"]}}, "body.filters.audience_gender.0"),
        ({"filters": {"revenue_min": "10"}}, "body.filters.revenue_currency"),
        ({"filters": {"revenue_min": "10", "revenue_currency": "ZZZ"}}, "body.filters.revenue_currency"),
        ({"filters": {"sponsored_only": True}}, "body.filters.sponsored_only"),
        ({"filters": {"mentioned_within_days": 3}}, "body.filters.mentioned_within_days"),
        ({"filters": {"hashtag": "two words"}}, "body.filters.hashtag"),
        ({"filters": {"mentions": "nul\u0000byte"}}, "body.filters.mentions"),
        ({"sort": "relevance"}, "body.sort"),
        ({"sort": "loudness"}, "body.sort"),
        ({"q": "   "}, "body.q"),
        ({"q": "a\u0000b"}, "body.q"),
        ({"limit": 0}, "body.limit"),
        ({"limit": 101}, "body.limit"),
        ({"mode": "semantic"}, "body.q"),
        ({"mode": "semantic", "q": "vegan baking", "sort": "-followers"}, "body.sort"),
        ({"mode": "semantic", "q": "vegan baking", "facets": True}, "body.facets"),
        ({"mode": "semantic", "q": "vegan baking", "cursor": "not-a-cursor"}, "body.cursor"),
        ({"cursor": "not-a-cursor"}, "body.cursor"),
    ],
)
async def test_a_bad_search_is_a_422_naming_the_field(gateway, body, field):
    response = await gateway.post(SEARCH, json=body)
    assert response.status_code == 422, response.text
    assert fields(response) == {field}


async def test_a_keyword_cursor_does_not_page_a_semantic_search(gateway, discovery_db):
    niche = own_niche()
    for _ in range(2):
        await insert_creator(discovery_db, niches=[niche])
    first = (await gateway.post(SEARCH, json={"filters": {"niche": [niche]}, "sort": "-followers", "limit": 1})).json()
    assert first["next_cursor"]

    response = await gateway.post(
        SEARCH, json={"q": "anything", "mode": "semantic", "filters": {"niche": [niche]}, "cursor": first["next_cursor"]}
    )

    assert response.status_code == 422, response.text
    assert fields(response) == {"body.cursor"}


async def test_a_cursor_of_another_sort_is_a_422_naming_the_cursor(gateway, discovery_db):
    niche = own_niche()
    for _ in range(2):
        await insert_creator(discovery_db, niches=[niche])
    first = (await gateway.post(SEARCH, json={"filters": {"niche": [niche]}, "sort": "-followers", "limit": 1})).json()
    assert first["next_cursor"]
    response = await gateway.post(SEARCH, json={"sort": "engagement", "cursor": first["next_cursor"]})
    assert response.status_code == 422
    assert fields(response) == {"body.cursor"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"followerz_min": "1"}, "query.followerz_min"),
        ({"followers_min": "10", "followers_max": "5"}, "query.followers_min"),
        ({"tier": "mega", "followers_max": "10"}, "query.tier"),
        ({"audience_country": "US:abc"}, "query.audience_country.0"),
        ({"sort": "-nothing"}, "query.sort"),
        ({"limit": "0"}, "query.limit"),
    ],
)
async def test_a_bad_creator_list_filter_is_a_422_naming_the_parameter(gateway, params, field):
    response = await gateway.get(CREATORS, params=params)
    assert response.status_code == 422, response.text
    assert fields(response) == {field}


@pytest.mark.parametrize(
    "q", ["it's", "back\\slash", '"quoted phrase" -not or maybe', "!!!", "Straße über", "C++ & | ! <-> :*", "the"]
)
async def test_any_text_query_is_answered(gateway, q):
    # The query is stemmed by PostgreSQL and sent back as a tsquery literal (ADR 0025): quotes,
    # operators and stop words must survive the round trip.
    response = await gateway.post("/v1/discovery/search", json={"q": q, "filters": {"niche": ["nothing-here"]}})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


async def test_a_query_with_quotes_and_umlauts_finds_its_creator(gateway, discovery_db):
    niche = own_niche()
    found = await insert_creator(discovery_db, niches=[niche], bio="It's the Straße über alles baker", languages=["de"])
    response = await gateway.post("/v1/discovery/search", json={"q": "it's straße", "filters": {"niche": [niche]}})
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [str(found)]


async def test_a_bound_sent_as_nan_is_said_not_to_be_a_number(gateway):
    """Found by an outside probe: NaN read "less than or equal to 100", a bound it does not break."""
    response = await gateway.post(SEARCH, content=b'{"filters": {"engagement_rate_min": NaN}}',
                                  headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [
        {"field": "body.filters.engagement_rate_min", "reason": "Input should be a finite number"}]
