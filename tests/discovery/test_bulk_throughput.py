"""A quick bulk ingest throughput check, run on purpose only (LIMELIGHT_INGEST_THROUGHPUT=1):
10,000 generated creators of ~1 account, 6 posts and an audience, through the gateway; prints
creators/s. Not a timed assertion: the real benchmark lives in bench/."""

import json
import os
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import unique_handle

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio,
    pytest.mark.skipif(not os.environ.get("LIMELIGHT_INGEST_THROUGHPUT"), reason="set LIMELIGHT_INGEST_THROUGHPUT=1"),
]

WORDS = "bake vegan bread oat cookie trail run coffee travel lens film gym protein sourdough kids garden".split()


def generated(n: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    now = datetime.now(UTC) - timedelta(hours=1)
    lines = []
    prefix = unique_handle()
    for i in range(n):
        handle = f"{prefix}{i}"
        followers = int(1000 * rng.paretovariate(1.2))
        lines.append(json.dumps({
            "accounts": [{"platform": "instagram", "handle": handle, "followers": followers,
                          "avg_likes": followers * 0.03, "avg_comments": followers * 0.001,
                          "observed_at": now.isoformat()}],
            "bio": " ".join(rng.choices(WORDS, k=12)), "niches": rng.sample(WORDS, 2), "languages": ["en"],
            "country": "US",
            "posts": [{"external_id": f"{handle}-{j}", "posted_at": (now - timedelta(days=j)).isoformat(),
                       "type": "photo", "caption": " ".join(rng.choices(WORDS, k=20)) + " #" + rng.choice(WORDS),
                       "likes": int(followers * 0.03), "comments": 3} for j in range(6)],
            "audience": {"estimated_at": now.isoformat(), "source": "bench",
                         "countries": {"US": 0.6, "GB": 0.1}, "ages": {"18-24": 0.4, "25-34": 0.4},
                         "genders": {"female": 0.6, "male": 0.4}},
        }))
    return ("\n".join(lines) + "\n").encode()


async def test_bulk_ingest_throughput(gateway):
    n = int(os.environ.get("LIMELIGHT_INGEST_THROUGHPUT_LINES", "10000"))
    body = generated(n)
    started = time.perf_counter()
    response = await gateway.post(
        "/v1/discovery/creators/bulk", content=body, headers={"Content-Type": "application/x-ndjson"}, timeout=300
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:2000]
    assert response.json()["created"] == n, response.json()["errors"][:5]
    print(f"\nbulk ingest: {n} creators ({len(body) / 1e6:.1f} MB) in {elapsed:.2f} s = {n / elapsed:.0f} creators/s")
