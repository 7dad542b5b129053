"""The audience vector: PostgreSQL's generated column and the Python function agree, and its
cosine is the weighted Bhattacharyya coefficient of the distributions."""

import math

import numpy as np
import pytest

from services.discovery.embedding.audience import AUDIENCE_DIMENSIONS, audience_vector
from tests.discovery.factory import insert_creator

AUDIENCES = [
    {"countries": {"US": 0.5, "BR": 0.3, "KE": 0.2}, "ages": {"18-24": 0.6, "25-34": 0.4},
     "genders": {"female": 0.55, "male": 0.45}, "languages": {"en": 0.7, "pt": 0.3}},
    {"countries": {"DE": 1.0}},
    {"ages": {"65+": 1.0}, "genders": {"other": 1.0}},
    {"languages": {"xx": 1.0}},  # only "the rest"
]


@pytest.mark.integration
@pytest.mark.asyncio
@pytest.mark.parametrize("audience", AUDIENCES)
async def test_generated_column_matches_python(discovery_db, audience):
    creator = await insert_creator(discovery_db, audience=audience)

    stored = await discovery_db.fetchval(
        "SELECT audience_vector::text FROM discovery.creators WHERE id = $1", creator
    )

    expected = audience_vector(*(audience.get(k) for k in ("countries", "ages", "genders", "languages")))
    assert np.allclose([float(x) for x in stored.strip("[]").split(",")], expected, atol=1e-6)


@pytest.mark.integration
@pytest.mark.asyncio
async def test_no_audience_has_no_vector(discovery_db):
    creator = await insert_creator(discovery_db, audience=None)

    assert await discovery_db.fetchval("SELECT audience_vector FROM discovery.creators WHERE id = $1", creator) is None


def test_identical_audiences_have_cosine_one_and_disjoint_countries_lose_their_weight():
    a = audience_vector({"US": 1.0}, {"18-24": 1.0}, {"female": 1.0}, {"en": 1.0})
    b = audience_vector({"FR": 1.0}, {"18-24": 1.0}, {"female": 1.0}, {"en": 1.0})
    assert len(a) == AUDIENCE_DIMENSIONS
    assert math.isclose(float(np.dot(a, a)), 1.0)
    assert math.isclose(float(np.dot(a, b)), 0.6)  # countries weigh 0.4


def test_nothing_known_is_no_vector():
    assert audience_vector(None, {}, None, {}) is None
    assert audience_vector({"US": "lots"}, None, None, None) is None
