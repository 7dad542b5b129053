"""POST /v1/discovery/search through the gateway: each filter keeps the creators it names and
only those (scoped to a niche of the test's own), and GET /creators takes the same filters."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.discovery.factory import insert_creator
from tests.discovery.search_helpers import CREATORS, ids, own_niche, search
from tests.conftest import unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

NOW = datetime.now(UTC)
BRAND = unique_handle("brand")
TAG = unique_handle("tag")

# (filters, what the creator that matches has, what the one that does not has)
CASES = {
    "platform": ({"platform": ["tiktok"]}, {"platform": "tiktok"}, {"platform": "instagram"}),
    "platform_secondary_account": (
        {"platform": ["youtube"]}, {"extra_accounts": [{"platform": "youtube", "followers": 100}]}, {},
    ),
    "tier": ({"tier": ["mid"]}, {"followers": 150_000}, {"followers": 50_000}),
    "tiers_adjacent": ({"tier": ["micro", "mid"]}, {"followers": 499_999}, {"followers": 500_000}),
    "followers_range": ({"followers_min": 20_000, "followers_max": 30_000}, {"followers": 30_000}, {"followers": 30_001}),
    "engagement_range": (
        {"engagement_rate_min": 2, "engagement_rate_max": 4}, {"engagement_rate": 0.03}, {"engagement_rate": 0.05},
    ),
    "growth_30d": ({"growth_30d_min": 5}, {"growth_30d": 0.1}, {"growth_30d": 0.01}),
    "growth_90d": ({"growth_90d_max": -1}, {"growth_90d": -0.05}, {"growth_90d": 0.02}),
    "country": ({"country": ["DE"]}, {"country": "DE"}, {"country": "FR"}),
    "city": ({"city": "Lisboa"}, {"city": "lisboa"}, {"city": "Porto"}),
    "language": ({"language": ["de"]}, {"languages": ["de", "en"]}, {"languages": ["en"]}),
    "contactable": ({"contactable": True}, {"contact": {"email": "a@example.org"}}, {}),
    "not_contactable": ({"contactable": False}, {}, {"contact": {"email": "a@example.org"}}),
    "posted_within_days": (
        {"posted_within_days": 7},
        {"posts": [{"caption": "hi", "posted_at": NOW - timedelta(days=2)}]},
        {"posts": [{"caption": "hi", "posted_at": NOW - timedelta(days=30)}]},
    ),
    "authenticity_min": ({"authenticity_min": 70}, {"audit_score": 70.0}, {"audit_score": 69.9}),
    "audience_country": (
        {"audience_country": ["US:30"]}, {"audience": {"countries": {"US": 0.3}}}, {"audience": {"countries": {"US": 0.29}}},
    ),
    "audience_country_between_steps": (
        {"audience_country": ["US:35"]}, {"audience": {"countries": {"US": 0.36}}}, {"audience": {"countries": {"US": 0.34}}},
    ),
    "audience_country_below_first_step": (
        {"audience_country": ["PT:5"]}, {"audience": {"countries": {"PT": 0.05}}}, {"audience": {"countries": {"US": 0.9}}},
    ),
    "audience_two_countries": (
        {"audience_country": ["US:30", "GB:20"]},
        {"audience": {"countries": {"US": 0.4, "GB": 0.2}}},
        {"audience": {"countries": {"US": 0.4, "GB": 0.1}}},
    ),
    "audience_age": (
        {"audience_age": ["18-24:40"]}, {"audience": {"ages": {"18-24": 0.45}}}, {"audience": {"ages": {"25-34": 0.45}}},
    ),
    "audience_gender": (
        {"audience_gender": ["female:60"]}, {"audience": {"genders": {"female": 0.7}}}, {"audience": {"genders": {"female": 0.5}}},
    ),
    "audience_language": (
        {"audience_language": ["es:50"]}, {"audience": {"languages": {"es": 0.5}}}, {},
    ),
    "mentions": ({"mentions": f"@{BRAND}"}, {"posts": [{"caption": f"Thanks @{BRAND}!"}]}, {"posts": [{"caption": "no brand"}]}),
    "hashtag": ({"hashtag": f"#{TAG}"}, {"posts": [{"caption": f"Run #{TAG}"}]}, {"posts": [{"caption": "#other"}]}),
    "mentions_sponsored_only": (
        {"mentions": BRAND, "sponsored_only": True},
        {"posts": [{"caption": f"@{BRAND} #ad"}]},
        {"posts": [{"caption": f"@{BRAND} love it"}]},
    ),
    "mentioned_within_days": (
        {"hashtag": TAG, "mentioned_within_days": 10},
        {"posts": [{"caption": f"#{TAG}", "posted_at": NOW - timedelta(days=3)}]},
        {"posts": [{"caption": f"#{TAG}", "posted_at": NOW - timedelta(days=40)}]},
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_each_filter_keeps_exactly_the_creators_it_names(gateway, discovery_db, case):
    filters, matching, other = CASES[case]
    niche = own_niche()
    match = await insert_creator(discovery_db, niches=[niche], **matching)
    await insert_creator(discovery_db, niches=[niche], **other)
    result = await search(gateway, filters={"niche": [niche], **filters})
    assert ids(result) == [match]


@pytest.mark.parametrize("case", CASES)
async def test_each_filter_keeps_exactly_its_creators_with_a_full_text_query_too(gateway, discovery_db, case):
    # With `q` the document's index drives the query and the audience thresholds are checked on
    # the distributions alone (no token pre-filter): the same creators must come back.
    filters, matching, other = CASES[case]
    niche, word = own_niche(), f"w{uuid.uuid4().hex[:10]}"
    match = await insert_creator(discovery_db, niches=[niche], bio=f"All about {word}", **matching)
    await insert_creator(discovery_db, niches=[niche], bio=f"All about {word}", **other)
    await insert_creator(discovery_db, niches=[niche], bio="Nothing to see", **matching)
    result = await search(gateway, filters={"niche": [niche], **filters}, q=word)
    assert ids(result) == [match]


async def test_proven_sellers_have_at_least_the_revenue_in_the_currency(gateway, discovery_db):
    niche = own_niche()
    seller = await insert_creator(discovery_db, niches=[niche])
    small = await insert_creator(discovery_db, niches=[niche])
    other_currency = await insert_creator(discovery_db, niches=[niche])
    for creator_id, currency, revenue_minor in ((seller, "EUR", 150_000), (small, "EUR", 99_999), (other_currency, "USD", 500_000)):
        await discovery_db.execute(
            "INSERT INTO discovery.creator_sales (creator_id, currency, clicks, orders, revenue_minor, commission_minor,"
            " as_of) VALUES ($1, $2, 10, 2, $3, 0, now())",
            creator_id, currency, revenue_minor,
        )
    result = await search(gateway, filters={"niche": [niche], "revenue_min": "1000", "revenue_currency": "EUR"})
    assert ids(result) == [seller]


async def test_filters_combine_with_and(gateway, discovery_db):
    niche = own_niche()
    both = await insert_creator(discovery_db, niches=[niche], country="DE", followers=150_000)
    await insert_creator(discovery_db, niches=[niche], country="DE", followers=5_000)
    await insert_creator(discovery_db, niches=[niche], country="FR", followers=150_000)
    result = await search(gateway, filters={"niche": [niche], "country": ["DE"], "tier": ["mid"]})
    assert ids(result) == [both]


async def test_the_creator_list_takes_the_filters_as_query_parameters(gateway, discovery_db):
    niche = own_niche()
    match = await insert_creator(discovery_db, niches=[niche], country="DE", audience={"countries": {"US": 0.5}})
    await insert_creator(discovery_db, niches=[niche], country="DE", audience={"countries": {"US": 0.1}})
    await insert_creator(discovery_db, niches=[niche], country="IT", audience={"countries": {"US": 0.5}})
    response = await gateway.get(
        CREATORS, params={"niche": niche, "country": "DE", "audience_country": "US:30", "sort": "-follower_count"}
    )
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [str(match)]
