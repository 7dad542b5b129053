"""Single creator writes through the gateway: every field round-trips, each bad input is a 422
naming the field, derived figures (engagement rate, growth, primary account), and events of
real changes only."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import eventually, unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

NOW = datetime.now(UTC).replace(microsecond=0)


def iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def full_creator(handle: str, tiktok: str) -> dict:
    return {
        "accounts": [
            {"platform": "instagram", "handle": handle, "url": f"https://instagram.com/{handle}", "followers": 52000,
             "following": 310, "posts_count": 840, "avg_likes": 1500.0, "avg_comments": 60.0, "avg_views": 9000.0,
             "observed_at": iso(0)},
            {"platform": "tiktok", "handle": tiktok, "followers": 9100, "avg_likes": 400.0, "avg_comments": 20.0},
        ],
        "display_name": "Anna Bakes",
        "bio": "Vegan baking for busy parents",
        "niches": [" Baking ", "vegan", "baking"],
        "languages": ["en", "DE"],
        "country": "gb",
        "city": "Leeds",
        "contact": {"email": "anna@example.com", "agent": "Talent Co"},
        "price_estimates": [{"platform": "instagram", "deliverable": "reel", "amount": "1250.00", "currency": "gbp"}],
        "posts": [
            {"external_id": "p1", "posted_at": iso(2), "type": "reel", "caption": "Oat cookies #vegan #ad with @oatly",
             "likes": 1000, "comments": 100, "views": 20000},
            {"external_id": "p2", "posted_at": iso(5), "type": "photo", "caption": "Rye bread", "likes": 2000,
             "comments": 0, "paid_partnership": True},
            {"platform": "tiktok", "handle": tiktok, "external_id": "t1", "posted_at": iso(1), "type": "short",
             "caption": "quick", "hashtags": ["#Fast"], "mentions": [], "likes": 10, "comments": 1},
        ],
        "follower_points": [
            {"observed_at": iso(30), "followers": 40000},
            {"observed_at": iso(91), "followers": 26000},
        ],
        "audience": {
            "estimated_at": iso(3), "source": "panel",
            "countries": {"GB": 0.6, "us": 0.2}, "ages": {"25-34": 0.5, "18-24": 0.3},
            "genders": {"female": 0.7, "male": 0.3}, "languages": {"en": 0.9}, "interests": {"Food": 0.4},
        },
    }


async def events_of(db, creator_id: str) -> list[str]:
    rows = await db.fetch("select event_type from discovery.outbox where key = $1 order by id", creator_id)
    return [r["event_type"] for r in rows]


async def test_every_field_round_trips_and_figures_are_derived(gateway):
    handle, tiktok = unique_handle(), unique_handle()
    response = await gateway.post("/v1/discovery/creators", json=full_creator(handle, tiktok))
    assert response.status_code == 201, response.text
    creator = (await gateway.get(f"/v1/discovery/creators/{response.json()['id']}")).json()
    assert (creator["platform"], creator["handle"], creator["follower_count"]) == ("instagram", handle, 52000)
    assert creator["platforms"] == ["instagram", "tiktok"] and creator["followers_total"] == 61100
    assert creator["niches"] == ["baking", "vegan"] and creator["languages"] == ["en", "de"]
    assert (creator["country"], creator["city"], creator["tier"]) == ("GB", "Leeds", "micro")
    assert creator["contactable"] is True and creator["contact_channels"] == ["email", "agent"]
    assert "anna@example.com" not in response.text + str(creator)
    assert creator["price_estimates"] == [{"platform": "instagram", "deliverable": "reel", "amount": "1250.00", "currency": "GBP"}]
    instagram = next(a for a in creator["accounts"] if a["platform"] == "instagram")
    assert instagram["engagement_formula"] == "mean(likes + comments) of the latest 2 posts / followers"
    assert instagram["engagement_rate"] == pytest.approx((1100 + 2000) / 2 / 52000)
    assert creator["engagement_rate"] == instagram["engagement_rate"]
    # 52,000 now against 40,000 thirty days ago and 26,000 ninety-one days ago.
    assert creator["growth_30d"] == pytest.approx(0.3) and creator["growth_90d"] == pytest.approx(1.0)
    posts = {p["external_id"]: p for p in creator["recent_posts"]}
    assert [p["external_id"] for p in creator["recent_posts"]] == ["t1", "p1", "p2"]
    assert posts["p1"]["hashtags"] == ["vegan", "ad"] and posts["p1"]["mentions"] == ["oatly"]
    assert posts["p1"]["sponsored"] and posts["p2"]["sponsored"] and not posts["t1"]["sponsored"]
    assert posts["t1"]["hashtags"] == ["fast"]
    assert creator["audience"]["countries"] == {"GB": 0.6, "US": 0.2}
    assert creator["audience"]["interests"] == {"food": 0.4} and creator["audience"]["source"] == "panel"
    contact = (await gateway.get(f"/v1/discovery/creators/{creator['id']}/contact")).json()
    assert contact == {"email": "anna@example.com", "phone": None, "agent": "Talent Co", "website": None}


async def test_a_replayed_write_changes_nothing_and_publishes_nothing(gateway, discovery_db):
    handle, tiktok = unique_handle(), unique_handle()
    body = full_creator(handle, tiktok)
    creator_id = (await gateway.post("/v1/discovery/creators", json=body)).json()["id"]
    before = await events_of(discovery_db, creator_id)
    assert before[0] == "CreatorCreated"
    assert set(before) == {"CreatorCreated", "PostsObserved", "FollowerCountsObserved", "AudienceEstimated"}
    patch = {k: v for k, v in body.items()}
    response = await gateway.patch(f"/v1/discovery/creators/{creator_id}", json=patch)
    assert response.status_code == 200, response.text
    assert await events_of(discovery_db, creator_id) == before


async def test_events_carry_what_the_audit_needs_and_no_contact(gateway, discovery_db):
    handle, tiktok = unique_handle(), unique_handle()
    creator_id = (await gateway.post("/v1/discovery/creators", json=full_creator(handle, tiktok))).json()["id"]
    rows = await discovery_db.fetch(
        "select event_type, convert_from(value, 'UTF8')::jsonb->'payload' as p from discovery.outbox where key = $1",
        creator_id,
    )
    assert all("anna@example.com" not in r["p"] for r in rows)
    import json
    payloads = {r["event_type"]: json.loads(r["p"]) for r in rows}
    created = payloads["CreatorCreated"]
    assert created["audit_needed"] and {a["handle"] for a in created["accounts"]} == {handle, tiktok}
    assert {p["external_id"] for p in payloads["PostsObserved"]["posts"]} == {"p1", "p2", "t1"}
    assert payloads["AudienceEstimated"]["countries"] == {"GB": 0.6, "US": 0.2}


async def test_a_follower_swing_and_new_posts_publish_events_with_audit_needed(gateway, discovery_db):
    handle = unique_handle()
    creator_id = (await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": handle, "follower_count": 1000})).json()["id"]
    response = await gateway.patch(
        f"/v1/discovery/creators/{creator_id}",
        json={"accounts": [{"platform": "x", "handle": handle, "followers": 1300}],
              "posts": [{"external_id": "a", "posted_at": iso(1), "type": "text", "caption": "hi", "likes": 13}]},
    )
    assert response.status_code == 200, response.text
    rows = await discovery_db.fetch(
        "select event_type, (convert_from(value, 'UTF8')::jsonb->'payload'->>'audit_needed')::bool as a"
        " from discovery.outbox where key = $1 order by id", creator_id,
    )
    later = [(r["event_type"], r["a"]) for r in rows[2:]]
    assert ("CreatorChanged", True) in later and ("PostsObserved", True) in later and ("FollowerCountsObserved", True) in later
    body = response.json()
    assert body["follower_count"] == 1300
    assert body["engagement_rate"] == pytest.approx(13 / 1300)
    series = (await gateway.get(f"/v1/discovery/creators/{creator_id}/followers")).json()["accounts"][0]["points"]
    assert [p["followers"] for p in series] == [1000, 1300]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "XX"}, "body.country"),
        ({"languages": ["english"]}, "body.languages.0"),
        ({"posts": [{"external_id": "1", "posted_at": "yesterday", "type": "photo"}]}, "body.posts.0.posted_at"),
        ({"posts": [{"platform": "x", "handle": "nobody", "external_id": "1", "posted_at": iso(1), "type": "photo"}]},
         "body.posts.0.handle"),
        ({"price_estimates": [{"platform": "x", "deliverable": "post", "amount": "10", "currency": "ABC"}]},
         "body.price_estimates.0.currency"),
        ({"audience": {"estimated_at": iso(1), "genders": {"female": 0.8, "male": 0.4}}}, "body.audience.genders"),
        ({"audience": {"estimated_at": iso(1), "ages": {"12-15": 0.1}}}, "body.audience.ages.12-15.[key]"),
        ({"accounts": [{"platform": "x", "handle": "a"}]}, "body.accounts"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(gateway, change, field):
    response = await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": unique_handle(), **change})
    assert response.status_code == 422, response.text
    assert field in [d["field"] for d in response.json()["detail"]]


async def test_posts_page_newest_first(gateway):
    handle = unique_handle()
    posts = [{"external_id": str(i), "posted_at": iso(i), "type": "photo"} for i in range(5)]
    creator_id = (await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": handle, "posts": posts})).json()["id"]
    first = (await gateway.get(f"/v1/discovery/creators/{creator_id}/posts", params={"limit": 3})).json()
    second = (await gateway.get(f"/v1/discovery/creators/{creator_id}/posts", params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert [p["external_id"] for p in first["items"] + second["items"]] == ["0", "1", "2", "3", "4"]
