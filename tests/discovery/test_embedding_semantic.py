"""semantic_search: a natural-language query finds the creators whose bio and captions mean the
same, under the search filters (the search endpoint calls it)."""

import numpy as np
import pytest
import pytest_asyncio
from sqlalchemy import select

from services.discovery.creator import text
from services.discovery.creator.models import Creator
from services.discovery.embedding import repository
from services.discovery.embedding.encoder import get_encoder
from services.discovery.embedding.semantic import semantic_search
from shared.db import make_engine, make_sessionmaker
from tests.conftest import unique_handle
from tests.discovery.factory import insert_creator

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CREATORS = {
    "vegan": ("Plant-based recipes for families with no time", ["Egg-free banana bread the kids love", "Dairy-free cupcakes in 20 minutes"]),
    "metal": ("Heavy metal guitarist", ["New riff, seven-string tuning", "Amp shootout: tube vs digital"]),
    "travel": ("Backpacking South-East Asia on a budget", ["Night train to Chiang Mai", "Hostels in Hanoi ranked"]),
    "finance": ("Personal finance for millennials", ["Index funds explained", "How I paid off my student loans"]),
    "bbq": ("Texas barbecue pitmaster", ["Smoked brisket, 14 hours", "Pork ribs with a dry rub"]),
}


@pytest_asyncio.fixture(scope="module")
async def sessionmaker(platform):
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"])
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest_asyncio.fixture(scope="module")
async def creators(discovery_db):
    niche = unique_handle("semantic").replace("_", "-")
    ids = {}
    for name, (bio, captions) in CREATORS.items():
        vector = get_encoder().encode([text.embedding_text(bio, [niche], captions)])[0]
        ids[name] = await insert_creator(
            discovery_db, bio=bio, niches=[niche], posts=[{"caption": c} for c in captions], embedding=vector.tolist()
        )
    return niche, ids


async def search(sessionmaker, query: str, niche: str, limit: int = 10, offset: int = 0):
    async with sessionmaker() as session, session.begin():
        return (await semantic_search(session, query, [Creator.niches.overlap([niche])], limit, offset))[0]


async def test_query_finds_the_creator_it_describes(sessionmaker, creators):
    niche, ids = creators

    found = await search(sessionmaker, "vegan baking for busy parents", niche)

    assert found[0][0].id == ids["vegan"]
    assert len(found) == len(CREATORS)
    similarities = [similarity for _, similarity in found]
    assert similarities == sorted(similarities, reverse=True)
    assert similarities[0] > similarities[1] + 0.1


@pytest.mark.parametrize(
    ("query", "name"),
    [("slow-cooked meat and smokers", "bbq"), ("cheap travel in Vietnam and Thailand", "travel"),
     ("saving money and investing", "finance"), ("electric guitar gear", "metal")],
)
async def test_each_query_ranks_its_creator_first(sessionmaker, creators, query, name):
    niche, ids = creators

    found = await search(sessionmaker, query, niche, limit=1)

    assert [row.id for row, _ in found] == [ids[name]]


async def test_offset_pages_through_the_same_ranking(sessionmaker, creators):
    niche, _ = creators
    everything = await search(sessionmaker, "vegan baking for busy parents", niche)

    second_page = await search(sessionmaker, "vegan baking for busy parents", niche, limit=2, offset=2)

    assert [row.id for row, _ in second_page] == [row.id for row, _ in everything[2:4]]


async def test_exact_fallback_ranks_like_cosine(sessionmaker, creators):
    """The last step of repository.nearest (exact ranking over the filtered rows) orders by the
    true cosine distance."""
    niche, ids = creators
    query = get_encoder().encode(["vegan baking for busy parents"])[0]
    async with sessionmaker() as session, session.begin():
        rows = (await session.execute(
            repository.knn_query(Creator.embedding, query.tolist(), [Creator.niches.overlap([niche])], 10, exact=True)
        )).all()
        stored = dict((await session.execute(
            select(Creator.id, Creator.embedding).where(Creator.id.in_(list(ids.values())))
        )).all())

    expected = sorted(ids.values(), key=lambda i: -float(np.asarray(stored[i]) @ query))
    assert [row.id for row in rows] == expected


SEARCH = "/v1/discovery/search"


async def test_semantic_mode_of_the_search_endpoint_ranks_by_meaning(gateway, creators):
    niche, ids = creators

    response = await gateway.post(
        SEARCH, json={"q": "slow-smoked meat", "mode": "semantic", "filters": {"niche": [niche]}, "limit": 2}
    )

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["items"][0]["id"] == str(ids["bbq"])
    assert page["items"][0]["score"] >= page["items"][1]["score"]
    assert page["facets"] is None and page["next_cursor"]


async def test_semantic_pages_cover_the_ranking_once_in_order(gateway, creators):
    niche, ids = creators
    body = {"q": "vegan baking for busy parents", "mode": "semantic", "filters": {"niche": [niche]}, "limit": 2}
    seen, scores, cursor = [], [], None

    while True:
        response = await gateway.post(SEARCH, json={**body, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        scores += [item["score"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen[0] == str(ids["vegan"])
    assert sorted(seen) == sorted(str(i) for i in ids.values())
    assert scores == sorted(scores, reverse=True)


async def test_semantic_search_keeps_to_the_filters(gateway, creators, discovery_db):
    niche, ids = creators
    other = unique_handle("semantic").replace("_", "-")
    bio, captions = CREATORS["vegan"]
    vector = get_encoder().encode([text.embedding_text(bio, [other], captions)])[0]
    outside = await insert_creator(discovery_db, bio=bio, niches=[other], embedding=vector.tolist())

    response = await gateway.post(
        SEARCH, json={"q": "vegan baking for busy parents", "mode": "semantic", "filters": {"niche": [niche]}}
    )

    found = [item["id"] for item in response.json()["items"]]
    assert str(outside) not in found and found[0] == str(ids["vegan"])
