"""GET /v1/discovery/creators/{id}/lookalikes through the gateway: content, audience and blended
ranking, the search filters, and the answers for unknown and not-yet-embedded creators."""

import uuid

import numpy as np
import pytest

from tests.conftest import unique_handle
from tests.discovery.factory import insert_creator

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

US = {"countries": {"US": 0.7, "CA": 0.2, "GB": 0.1}, "ages": {"18-24": 0.5, "25-34": 0.5},
      "genders": {"female": 0.8, "male": 0.2}, "languages": {"en": 1.0}}
DE = {**US, "countries": {"DE": 0.8, "AT": 0.2}}


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def family(seed: int) -> dict[str, np.ndarray]:
    """A base direction and creators at known angles from it."""
    rng = np.random.default_rng(seed)
    base = unit(rng.normal(size=384))
    return {
        "seed": base,
        "near": unit(base + 0.1 * unit(rng.normal(size=384))),  # cosine ~0.995
        "mid": unit(base + 0.6 * unit(rng.normal(size=384))),  # cosine ~0.86
        "far": unit(rng.normal(size=384)),  # cosine ~0
    }


async def seed_family(db, niche: str, seed: int = 7, **extra) -> dict[str, uuid.UUID]:
    vectors = family(seed)
    audiences = {"seed": US, "near": DE, "mid": US, "far": US}
    return {
        name: await insert_creator(
            db, niches=[niche], bio=f"{name} creator", embedding=vectors[name].tolist(), audience=audiences[name],
            country="FR" if name == "near" else "US", **extra,
        )
        for name in vectors
    }


async def lookalikes(gateway, creator_id, **params):
    return await gateway.get(f"/v1/discovery/creators/{creator_id}/lookalikes", params=params)


def niche() -> str:
    return unique_handle("niche").replace("_", "-")


async def test_content_lookalikes_rank_by_embedding_similarity(gateway, discovery_db):
    n = niche()
    ids = await seed_family(discovery_db, n)

    response = await lookalikes(gateway, ids["seed"], basis="content", niche=n)

    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["id"] for item in body["items"]] == [str(ids["near"]), str(ids["mid"]), str(ids["far"])]
    vectors = family(7)
    for item, name in zip(body["items"], ("near", "mid", "far")):
        assert item["similarity"] == pytest.approx(float(vectors["seed"] @ vectors[name]), abs=1e-4)
        assert item["content_similarity"] == item["similarity"]
        assert item["audience_similarity"] is not None
    assert body["basis"] == "content" and body["creator_id"] == str(ids["seed"])


async def test_the_creator_itself_is_never_its_own_lookalike(gateway, discovery_db):
    # A direction of its own: the other tests' families share seed 7, hence their "near" vector.
    n = niche()
    ids = await seed_family(discovery_db, n, seed=uuid.uuid4().int % 2**32)

    # Among every creator, through the HNSW index: the creator is not in its own answer. (Which
    # neighbours an approximate scan finds for a cluster of four vectors far from every other is
    # not this test's question: the shared test database holds hundreds of copies of the other
    # tests' vectors.)
    anywhere = await lookalikes(gateway, ids["seed"], limit=100)
    # Within its niche (the exact ranking of a selective filter): the family in order, without it.
    within = await lookalikes(gateway, ids["seed"], limit=100, niche=n)

    assert anywhere.status_code == 200 and within.status_code == 200, (anywhere.text, within.text)
    assert str(ids["seed"]) not in [item["id"] for item in anywhere.json()["items"]]
    assert [item["id"] for item in within.json()["items"]] == [str(ids[k]) for k in ("near", "mid", "far")]


async def test_audience_lookalikes_rank_by_audience_similarity(gateway, discovery_db):
    n = niche()
    ids = await seed_family(discovery_db, n)

    response = await lookalikes(gateway, ids["seed"], basis="audience", niche=n)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert {items[0]["id"], items[1]["id"]} == {str(ids["mid"]), str(ids["far"])}  # the same audience
    assert items[0]["similarity"] == pytest.approx(1.0, abs=1e-5)
    assert items[2]["id"] == str(ids["near"])  # same ages, genders and languages, other countries
    assert items[2]["similarity"] == pytest.approx(0.6, abs=1e-3)


async def test_both_blends_content_and_audience(gateway, discovery_db):
    n = niche()
    ids = await seed_family(discovery_db, n)

    response = await lookalikes(gateway, ids["seed"], basis="both", niche=n)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    # mid: 0.6 * 0.86 + 0.4 * 1.0 beats near: 0.6 * 0.995 + 0.4 * 0.6; far: 0.4 * 1.0.
    assert [item["id"] for item in items] == [str(ids["mid"]), str(ids["near"]), str(ids["far"])]
    for item in items:
        assert item["similarity"] == pytest.approx(
            0.6 * item["content_similarity"] + 0.4 * item["audience_similarity"], abs=1e-5
        )


async def test_filters_narrow_lookalikes(gateway, discovery_db):
    n = niche()
    ids = await seed_family(discovery_db, n)

    response = await lookalikes(gateway, ids["seed"], niche=n, country="US", limit=5)

    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [str(ids["mid"]), str(ids["far"])]


async def test_limit_caps_the_answer(gateway, discovery_db):
    n = niche()
    ids = await seed_family(discovery_db, n)

    response = await lookalikes(gateway, ids["seed"], niche=n, limit=1)

    assert [item["id"] for item in response.json()["items"]] == [str(ids["near"])]


async def test_unknown_creator_is_404(gateway):
    response = await lookalikes(gateway, uuid.uuid4())

    assert response.status_code == 404, response.text


async def test_creator_without_embedding_is_409_not_embedded_yet(gateway, discovery_db):
    creator = await insert_creator(discovery_db, bio=None, niches=[], posts=[], audience=US)

    response = await lookalikes(gateway, creator, basis="content")

    assert response.status_code == 409, response.text
    assert "not embedded yet" in response.text
    assert (await lookalikes(gateway, creator, basis="audience")).status_code == 200


async def test_creator_without_audience_has_no_audience_lookalikes(gateway, discovery_db):
    creator = await insert_creator(discovery_db, embedding=family(3)["seed"].tolist())

    response = await lookalikes(gateway, creator, basis="audience")

    assert response.status_code == 409, response.text
    assert "audience" in response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"followers_min": 10, "followers_max": 5}, "followers_min"),
        ({"basis": "vibes"}, "basis"),
        ({"limit": 0}, "limit"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_query_is_422_naming_the_field(gateway, discovery_db, params, field):
    creator = await insert_creator(discovery_db, embedding=family(5)["seed"].tolist())

    response = await lookalikes(gateway, creator, **params)

    assert response.status_code == 422, response.text
    assert field in response.text
