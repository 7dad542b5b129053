"""The read-side test factory writes creators the search reads (a guard on the factory itself)."""

import pytest

from tests.discovery.factory import insert_creator

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_factory_creator_is_readable_with_its_document_and_tier(gateway, discovery_db):
    creator_id = await insert_creator(
        discovery_db, followers=150_000, bio="Vegan baking for busy parents", niches=["food"],
        posts=[{"caption": "Sourdough day #ad @flourco"}], audience={"countries": {"US": 0.4}},
    )
    response = await gateway.get(f"/v1/discovery/creators/{creator_id}")
    assert response.status_code == 200, response.text
    row = await discovery_db.fetchrow(
        "SELECT tier, document @@ to_tsquery('english', 'bake') AS found FROM discovery.creators WHERE id = $1",
        creator_id,
    )
    assert row["tier"] == "mid" and row["found"]
    post = await discovery_db.fetchrow("SELECT hashtags, mentions, sponsored FROM discovery.posts WHERE creator_id = $1", creator_id)
    assert post["hashtags"] == ["ad"] and post["mentions"] == ["flourco"] and post["sponsored"]
