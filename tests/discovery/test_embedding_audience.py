"""The audience vector: what ingest writes, PostgreSQL's function (migration 0010) and the Python
function agree, and its cosine is the weighted Bhattacharyya coefficient of the distributions."""

import json
import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from services.discovery.embedding.audience import AUDIENCE_DIMENSIONS, audience_vector
from tests.conftest import unique_handle

AUDIENCES = [
    {"countries": {"US": 0.5, "BR": 0.3, "KE": 0.2}, "ages": {"18-24": 0.6, "25-34": 0.4},
     "genders": {"female": 0.55, "male": 0.45}, "languages": {"en": 0.7, "pt": 0.3}},
    {"countries": {"DE": 1.0}},
    {"ages": {"65+": 1.0}, "genders": {"other": 1.0}},
    {"languages": {"eo": 1.0}},  # Esperanto: not one of the keys, so only "the rest"
    # Summed in this order, the countries' total is not 1.0 but 1 - 1e-16: "the rest" must be
    # summed in jsonb's key order, as the SQL function does (found in review).
    {"countries": {"US": 0.6, "GB": 0.3, "DE": 0.1}},
]


OBSERVED = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
STORED = (
    "SELECT audience_vector::text AS stored,"
    " discovery.audience_vector(audience_countries, audience_ages, audience_genders, audience_languages)::text AS by_sql"
    " FROM discovery.creators WHERE id = $1"
)


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.strip("[]").split(",")]


@pytest.mark.integration
@pytest.mark.asyncio
@pytest.mark.parametrize("audience", AUDIENCES)
async def test_ingest_writes_the_vector_postgresqls_function_and_python_compute(gateway, discovery_db, audience):
    created = await gateway.post("/v1/discovery/creators", json={
        "platform": "instagram", "handle": unique_handle(),
        "audience": {"estimated_at": OBSERVED, "source": "test", **audience}})
    assert created.status_code == 201, created.text

    row = await discovery_db.fetchrow(STORED, created.json()["id"])

    assert row["stored"] == row["by_sql"]  # the migration 0010 function, to the last digit pgvector keeps
    expected = audience_vector(*(audience.get(k) for k in ("countries", "ages", "genders", "languages")))
    assert np.allclose(_floats(row["stored"]), expected, atol=1e-6)


@pytest.mark.integration
@pytest.mark.asyncio
async def test_bulk_ingest_and_updates_keep_the_vector_in_step_with_the_audience(gateway, discovery_db):
    # 30 lines: past SMALL_BATCH, so the rows go through the staging tables and the merge.
    rnd = random.Random(7)
    countries, ages = ["US", "GB", "DE", "BR", "KE", "JP"], ["18-24", "25-34", "35-44", "65+"]
    handles = [unique_handle() for _ in range(30)]

    def audience(weights) -> dict:
        return {"estimated_at": OBSERVED, "source": "test",
                "countries": dict(zip(rnd.sample(countries, 3), weights)),
                "ages": {rnd.choice(ages): 1.0}, "genders": {"female": 0.5, "male": 0.5}}

    lines = [{"platform": "tiktok", "handle": h, "audience": audience((0.6, 0.3, 0.1))} for h in handles]
    response = await gateway.post("/v1/discovery/creators/bulk", content="\n".join(json.dumps(x) for x in lines),
                                  headers={"Content-Type": "application/x-ndjson"})
    assert response.json()["created"] == 30, response.text
    ids = [r["id"] for r in await discovery_db.fetch(
        "SELECT id FROM discovery.creators WHERE handle = any($1::text[]) ORDER BY handle", handles)]
    rows = {i: await discovery_db.fetchrow(STORED, i) for i in ids}
    assert all(row["stored"] and row["stored"] == row["by_sql"] for row in rows.values())
    before = {i: row["stored"] for i, row in rows.items()}

    # A new audience for half of them, a new bio for the other half (the vector must not move).
    for i, creator in enumerate(ids):
        change = {"audience": audience((0.1, 0.1, 0.8))} if i % 2 else {"bio": "Now with more travel"}
        patched = await gateway.patch(f"/v1/discovery/creators/{creator}", json=change)
        assert patched.status_code == 200, patched.text

    for i, creator in enumerate(ids):
        row = await discovery_db.fetchrow(STORED, creator)
        assert row["stored"] == row["by_sql"]
        assert (row["stored"] != before[creator]) == bool(i % 2)


@pytest.mark.integration
@pytest.mark.asyncio
async def test_the_written_vector_is_the_sql_functions_to_the_digit_over_random_audiences(discovery_db):
    from services.discovery.creator.ingest import _audience_vector

    rnd = random.Random(11)
    keys = {"countries": ["US", "GB", "DE", "FR", "BR", "KE", "JP", "IN", "MX", "NZ"],
            "ages": ["13-17", "18-24", "25-34", "35-44", "65+"], "genders": ["female", "male", "other"],
            "languages": ["en", "de", "fr", "pt", "eo", "sw", "ja"]}
    async with discovery_db.acquire() as conn:
        for _ in range(400):
            audience = {}
            for block, names in keys.items():
                chosen = rnd.sample(names, rnd.randint(0, min(4, len(names))))
                weights = [rnd.choice([rnd.random(), round(rnd.random(), 1), 0.1, 0.3, 0.6]) for _ in chosen]
                total = sum(weights) or 1
                audience[block] = {k: w / total for k, w in zip(chosen, weights)}
            by_sql = await conn.fetchval(
                "SELECT discovery.audience_vector($1::jsonb, $2::jsonb, $3::jsonb, $4::jsonb)::text",
                *(json.dumps(audience[b]) for b in ("countries", "ages", "genders", "languages")))
            written = _audience_vector({f"audience_{b}": v for b, v in audience.items()})
            stored = await conn.fetchval("SELECT $1::text::vector::text", written) if written else None
            assert stored == by_sql, audience


@pytest.mark.integration
@pytest.mark.asyncio
async def test_no_audience_has_no_vector(gateway, discovery_db):
    created = await gateway.post("/v1/discovery/creators", json={"platform": "instagram", "handle": unique_handle()})

    assert (await discovery_db.fetchrow(STORED, created.json()["id"]))["stored"] is None


def test_identical_audiences_have_cosine_one_and_disjoint_countries_lose_their_weight():
    a = audience_vector({"US": 1.0}, {"18-24": 1.0}, {"female": 1.0}, {"en": 1.0})
    b = audience_vector({"FR": 1.0}, {"18-24": 1.0}, {"female": 1.0}, {"en": 1.0})
    assert len(a) == AUDIENCE_DIMENSIONS
    assert math.isclose(float(np.dot(a, a)), 1.0)
    assert math.isclose(float(np.dot(a, b)), 0.6)  # countries weigh 0.4


def test_nothing_known_is_no_vector():
    assert audience_vector(None, {}, None, {}) is None
    assert audience_vector({"US": "lots"}, None, None, None) is None
