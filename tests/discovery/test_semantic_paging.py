"""Paging a semantic search to the end of its depth through the gateway (found by an outside
probe: the page at 900 of a query with more than 1,000 matches was a 500, the scan asked one row
past the depth it reads). The pages end at 1,000 with no cursor, and no creator comes twice."""

import asyncio
import random

import pytest

from tests.discovery.factory import insert_creator
from tests.discovery.search_helpers import SEARCH, own_niche

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_semantic_search_pages_to_its_depth_and_shows_each_creator_once(gateway, discovery_db):
    niche = own_niche()
    rng = random.Random(7)
    made = 0
    while made < 1010:
        batch = [insert_creator(discovery_db, niches=[niche], bio="vegan baking",
                                embedding=[rng.gauss(0, 1) for _ in range(384)]) for _ in range(25)]
        await asyncio.gather(*batch)
        made += len(batch)
    # Filtered to the niche: its 1,010 creators are ranked exactly.
    seen, scores, pages = await every_page(gateway, {"niche": [niche]})
    assert pages == 10 and len(seen) == 1000 and len(set(seen)) == 1000
    assert scores == sorted(scores, reverse=True)  # most similar first across the pages too
    # Unfiltered: the HNSW index's approximate scan, run again deeper for each page. How deep it
    # reaches depends on the index's dead entries (the suite deletes creators), so only the pages'
    # order and uniqueness are checked, over at least two pages.
    seen, scores, pages = await every_page(gateway, {})
    assert pages >= 2 and len(seen) == len(set(seen))
    assert scores == sorted(scores, reverse=True)


async def every_page(gateway, filters: dict) -> tuple[list[str], list[float], int]:
    seen, scores, cursor, pages = [], [], None, 0
    while True:
        body = {"q": "vegan baking for busy parents", "mode": "semantic", "limit": 100, "filters": filters}
        if cursor:
            body["cursor"] = cursor
        response = await gateway.post(SEARCH, json=body)
        assert response.status_code == 200, (pages, response.text)
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        scores += [item["score"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, scores, pages
