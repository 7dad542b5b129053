"""The benchmark's index generator (bench/discovery_index.py) writes what the service would: a
guard so that it cannot silently drift from the schema or from the service's own text rules."""

import json
import math
import uuid

import asyncpg
import pytest

from bench import discovery_index
from services.discovery.creator import text

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TIERS = ((10_000, "nano"), (100_000, "micro"), (500_000, "mid"), (1_000_000, "macro"))


async def test_generated_creators_keep_the_index_invariants(service_dsn):
    prefix = f"g{uuid.uuid4().hex[:8]}"
    dsn = service_dsn("discovery")
    await discovery_index.build(dsn, 200, seed=11, workers=1, chunk=100, defer_indexes=False, prefix=prefix, say=lambda _: None)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT c.*, vector_norm(c.embedding) AS norm, length(c.document) AS lexemes,"
            " (SELECT max(a.followers) FROM discovery.accounts a WHERE a.creator_id = c.id) AS largest,"
            " (SELECT count(*) FROM discovery.posts p WHERE p.creator_id = c.id) AS posts,"
            " (SELECT array_agg(p.caption ORDER BY p.posted_at DESC) FROM discovery.posts p WHERE p.creator_id = c.id)"
            "   AS captions,"
            " (SELECT max(p.posted_at) FROM discovery.posts p WHERE p.creator_id = c.id) AS newest"
            " FROM discovery.creators c WHERE c.handle LIKE $1", prefix + "%")
        assert len(rows) == 200
        for r in rows:
            expected = next((name for limit, name in TIERS if r["follower_count"] < limit), "mega")
            assert r["tier"] == expected
            assert r["follower_count"] == r["largest"], "the primary account is the largest"
            assert 0 < r["engagement_rate"] < 0.5
            assert r["lexemes"] > 5 and r["text_config"] == text.text_config_for(r["languages"])
            assert math.isclose(r["norm"], 1.0, abs_tol=1e-4)
            assert 4 <= r["posts"] <= 6 and r["last_posted_at"] == r["newest"]
            assert r["embedding_text_hash"] == text.text_hash(text.embedding_text(r["bio"], r["niches"], r["captions"]))
            for column in ("audience_countries", "audience_ages", "audience_genders", "audience_languages",
                           "audience_interests"):
                shares = json.loads(r[column]).values()
                assert all(0 <= s <= 1 for s in shares) and sum(shares) <= 1 + 1e-9, column
            assert json.loads(r["audience_countries"])[r["country"]] >= 0.35
        tiers = {r["tier"] for r in rows}
        assert {"nano", "micro"} <= tiers, "a power law: mostly nano and micro"
        assert sum(r["tier"] == "nano" for r in rows) > 100
        # Full-text search finds a creator by a word of its niche, through the service's own document.
        fitness = [r for r in rows if "fitness" in r["niches"]]
        found = await conn.fetchval(
            "SELECT count(*) FROM discovery.creators WHERE handle LIKE $1"
            " AND document @@ plainto_tsquery(text_config::regconfig, 'fitness')", prefix + "%")
        assert found >= len(fitness) > 0
        # Growth agrees with the primary account's follower series (the point 30 days back).
        r = rows[0]
        back = await conn.fetchval(
            "SELECT p.followers FROM discovery.follower_points p JOIN discovery.accounts a ON a.id = p.account_id"
            " WHERE a.creator_id = $1 AND a.platform = $2 ORDER BY p.observed_at DESC OFFSET 1 LIMIT 1",
            r["id"], r["platform"])
        assert math.isclose(r["follower_count"] / back - 1, r["growth_30d"], rel_tol=0.01, abs_tol=2e-3)
        sponsored = await conn.fetch(
            "SELECT caption, sponsored, paid_partnership, hashtags FROM discovery.posts p"
            " JOIN discovery.creators c ON c.id = p.creator_id WHERE c.handle LIKE $1", prefix + "%")
        assert all(p["sponsored"] == text.is_sponsored(p["paid_partnership"], p["hashtags"], p["caption"]) for p in sponsored)
        assert any(p["sponsored"] for p in sponsored)
    finally:
        await conn.execute("DELETE FROM discovery.creators WHERE handle LIKE $1", prefix + "%")
        await conn.close()
