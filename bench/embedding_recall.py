"""Lookalike latency and recall@10 of the HNSW index against exact search, per hnsw.ef_search.

SYNTHETIC vectors: creators get unit vectors clustered by niche (a niche centre plus noise), not
the model's output — the model's throughput is bench/embedding.py. Starts its own PostgreSQL in
.limelight/bench-embedding (loopback only), migrates discovery, loads --creators rows with COPY,
builds the HNSW index (m 16, ef_construction 64, as migration 0010), then times lookalike
queries: the HNSW answer per ef_search, and the exact answer (ORDER BY distance + 0) that recall
is measured against; and the same with a selective filter through repository.nearest's steps.

    .venv/bin/python bench/embedding_recall.py --creators 100000
"""

import argparse
import asyncio
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import numpy as np
from pgvector.asyncpg import register_vector

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import record  # noqa: E402
from runtime.config import ROOT, RuntimeSettings  # noqa: E402
from runtime.postgres import Postgres  # noqa: E402
from services.discovery.embedding.repository import EF_SEARCH  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

STATE_DIR = ROOT / ".limelight" / "bench-embedding"
NICHES = 50
COUNTRIES = ["US", "GB", "DE", "FR", "BR", "IN", "ES", "IT", "CA", "AU"]


def vectors(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centres = rng.normal(size=(NICHES, 384)).astype(np.float32)
    niche = rng.integers(0, NICHES, size=n)
    v = centres[niche] + rng.normal(scale=1.2, size=(n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True), niche


async def load(conn, n: int, rng) -> np.ndarray:
    v, niche = vectors(n, rng)
    await conn.execute("DROP INDEX IF EXISTS discovery.ix_discovery_creators_embedding_hnsw")
    started = time.perf_counter()
    records = (
        (uuid.uuid4(), "instagram", f"c{i}", int(rng.pareto(1.5) * 5000 + 1000), [f"niche{niche[i]}"],
         COUNTRIES[i % len(COUNTRIES)], v[i], False)
        for i in range(n)
    )
    await conn.copy_records_to_table(
        "creators", schema_name="discovery",
        columns=["id", "platform", "handle", "follower_count", "niches", "country", "embedding", "embedding_stale"],
        records=records,
    )
    print(f"loaded {n:,} creators in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    await conn.execute("SET maintenance_work_mem = '2GB'")
    started = time.perf_counter()
    await conn.execute(
        "CREATE INDEX ix_discovery_creators_embedding_hnsw ON discovery.creators "
        "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
    )
    build = time.perf_counter() - started
    await conn.execute("ANALYZE discovery.creators")
    size = await conn.fetchval("SELECT pg_relation_size('discovery.ix_discovery_creators_embedding_hnsw')")
    table = await conn.fetchval("SELECT pg_total_relation_size('discovery.creators')")
    print(f"HNSW build {build:.0f} s, index {size / 2**20:.0f} MiB, table with indexes {table / 2**20:.0f} MiB")
    return v


KNN = "SELECT id FROM discovery.creators WHERE id <> $2 {filter} ORDER BY (embedding <=> $1){exact} LIMIT 10"


async def measure(conn, v: np.ndarray, queries: int, rng, efs: list[int], where: str, label: str) -> None:
    ids = await conn.fetch("SELECT id, embedding FROM discovery.creators TABLESAMPLE SYSTEM (1) LIMIT $1", queries)
    exact_sql = KNN.format(filter=where, exact=" + 0")
    truth, exact_ms = [], []
    for row in ids:
        started = time.perf_counter()
        truth.append({r["id"] for r in await conn.fetch(exact_sql, row["embedding"], row["id"])})
        exact_ms.append((time.perf_counter() - started) * 1000)
    print(f"{label}: exact p50 {statistics.median(exact_ms):.1f} ms, p95 {np.percentile(exact_ms, 95):.1f} ms")
    # Recorded: the service's ef_search (else the largest asked for) unfiltered; filtered, the exact
    # answer, which is what repository.nearest falls back to under a selective filter.
    headline = EF_SEARCH if EF_SEARCH in efs else max(efs, default=None)
    scale = f"{len(v):,} SYNTHETIC vectors, {len(ids)} queries"
    if where:
        record(f"{label}: exact p95", float(np.percentile(exact_ms, 95)), "ms", note=scale)
    for ef in efs:
        recalls, ms, short = [], [], 0
        for row, expected in zip(ids, truth):
            async with conn.transaction():
                await conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")
                started = time.perf_counter()
                got = {r["id"] for r in await conn.fetch(KNN.format(filter=where, exact=""), row["embedding"], row["id"])}
                ms.append((time.perf_counter() - started) * 1000)
            recalls.append(len(got & expected) / max(len(expected), 1))
            short += len(got) < len(expected)
        print(f"{label}: ef_search {ef:>4}: recall@10 {statistics.mean(recalls):.3f}, "
              f"p50 {statistics.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, "
              f"answers short of 10 rows: {short}/{len(ids)}")
        if ef == headline and not where:
            record(f"lookalike recall@10, ef_search {ef}", statistics.mean(recalls), "ratio", target=0.95,
                   better="higher", note=scale)
            record(f"lookalike p95, ef_search {ef}", float(np.percentile(ms, 95)), "ms", target=50.0,
                   baseline="exact p95", baseline_value=float(np.percentile(exact_ms, 95)), note=scale)


async def run(url: str, n: int, queries: int, efs: list[int]) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    await register_vector(conn)
    try:
        rng = np.random.default_rng(7)
        v = await load(conn, n, rng)
        await measure(conn, v, queries, rng, efs, "", "unfiltered")
        await measure(conn, v, queries, rng, efs, "AND country = 'DE' AND follower_count > 20000",
                      "filtered (country and followers)")
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--ef", type=int, nargs="*", default=[40, 100, 200])
    args = parser.parse_args()
    settings = RuntimeSettings(state_dir=STATE_DIR, database_url=None)
    postgres = Postgres(settings)
    postgres.stop()
    shutil.rmtree(STATE_DIR / "postgres", ignore_errors=True)
    try:
        server = postgres.start()
        postgres.bootstrap(server)
        url = postgres.service_url(server, "discovery")
        upgrade("discovery", url)
        asyncio.run(run(url, args.creators, args.queries, args.ef))
        return 0
    finally:
        postgres.stop()


if __name__ == "__main__":
    raise SystemExit(main())
