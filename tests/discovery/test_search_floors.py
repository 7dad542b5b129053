"""Relevance's candidate floors (ADR 0025): a floor predicted to hold fewer than RANKED_MATCHES
matches is not asked, and whichever floors are asked, the page is the same."""

import math

import pytest
import pytest_asyncio

from services.discovery.search import repository
from services.discovery.search.filters import CreatorFilters, conditions
from services.discovery.search.repository import RANKED_MATCHES, floors_worth_asking
from shared.db import Reads, make_engine
from shared.pagination import PageParams
from tests.discovery.search_helpers import own_niche

ESTIMATES = {100_000: 40_000.0, 10_000: 200_000.0, None: 1_000_000.0}  # five times more per floor


def test_a_floor_predicted_to_hold_too_few_is_skipped_and_the_last_is_always_asked():
    # 10 matches above 100k predict (10 + 1) x 5 = 55 above 10k: skip to every creator.
    assert floors_worth_asking(100_000, 10, [10_000, None], ESTIMATES) == [None]
    # 0 matches: still the last floor.
    assert floors_worth_asking(100_000, 0, [10_000, None], ESTIMATES) == [None]
    # 40 predict 205 >= RANKED_MATCHES: worth asking.
    assert floors_worth_asking(100_000, 40, [10_000, None], ESTIMATES) == [10_000, None]
    assert floors_worth_asking(10_000, 3, [None], ESTIMATES) == [None]


def test_without_estimates_every_floor_is_asked():
    assert floors_worth_asking(100_000, 0, [10_000, None], {}) == [10_000, None]
    assert floors_worth_asking(100_000, 0, [10_000, None], {100_000: 0.0, 10_000: 0.0, None: 0.0}) == [10_000, None]


@pytest_asyncio.fixture
async def reads(platform):
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"], pool_size=1)
    yield Reads(engine)
    await engine.dispose()


@pytest.fixture
def asked(monkeypatch):
    """The floors `repository.search` asks, in order."""
    floors: list = []
    statement = repository.search_statement

    def recording(*args, floor=None, **kwargs):
        floors.append(floor)
        return statement(*args, floor=floor, **kwargs)

    monkeypatch.setattr(repository, "search_statement", recording)
    return floors


def use_estimates(monkeypatch, estimates: dict):
    """Search with these estimates ({}: as if they could not be read, every floor asked)."""
    async def given(session):
        return estimates

    monkeypatch.setattr(repository, "floor_estimates", given)


@pytest.mark.integration
@pytest.mark.asyncio
async def test_skipping_a_floor_changes_nothing_on_the_page(discovery_db, reads, asked, monkeypatch):
    # 3 matches above 100k, RANKED_MATCHES between 10k and 100k, 20 below: the 10k floor holds the
    # page's candidates, and with the estimates above it is predicted to hold (3 + 1) x 5 = 20.
    niche = own_niche()
    word = f"w{niche}"
    await discovery_db.execute(
        "INSERT INTO discovery.creators (id, platform, handle, follower_count, niches, country, text_config, document,"
        " embedding_stale)"
        " SELECT gen_random_uuid(), 'instagram', $1 || i, f, ARRAY[$2], 'FR', 'simple',"
        "  setweight(to_tsvector('simple', repeat($3 || ' ', 1 + i % 4)), 'C'), false"
        " FROM generate_series(1, $4) AS i,"
        "  LATERAL (SELECT CASE WHEN i <= 3 THEN 200000 + i WHEN i <= 3 + $5 THEN 10000 + i ELSE i END AS f) AS g",
        f"{niche}-", niche, word, 3 + RANKED_MATCHES + 20, RANKED_MATCHES,
    )
    filters = CreatorFilters(niche=[niche])
    query = await repository.tsquery(reads, word, None)

    async def page(cursor=None):
        found = await repository.search(reads, conditions(filters, text_query=True), query, "relevance",
                                        PageParams(limit=50, cursor=cursor))
        return [(row.id, row.score) for row in found]

    use_estimates(monkeypatch, {})
    every_floor = await page()
    assert asked == [100_000, 10_000]  # the 10k floor held RANKED_MATCHES: the page came from it

    asked.clear()
    use_estimates(monkeypatch, ESTIMATES)
    skipped = await page()
    assert asked == [100_000, None]
    assert skipped == every_floor and len(skipped) == 51

    # A later page (a cursor) is the same too.
    cursor = repository.next_cursor(
        [type("R", (), {"id": i, "score": s})() for i, s in every_floor], 50, "relevance"
    )
    use_estimates(monkeypatch, {})
    second_every = await page(cursor)
    use_estimates(monkeypatch, ESTIMATES)
    assert await page(cursor) == second_every and second_every


@pytest.mark.integration
@pytest.mark.asyncio
async def test_the_estimates_are_read_from_the_database(reads, monkeypatch):
    monkeypatch.setattr(repository, "_FLOOR_ESTIMATES", {})
    monkeypatch.setattr(repository, "_FLOOR_ESTIMATED_AT", [-math.inf])
    estimates = await repository.floor_estimates(reads)
    assert set(estimates) == set(repository.CANDIDATE_FLOORS)
    assert all(value >= 0 for value in estimates.values())
    assert estimates[None] >= estimates[10_000] >= estimates[100_000]
