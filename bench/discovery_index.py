"""A realistic creator index written straight into discovery's tables, for benchmarks.

`python -m bench.discovery_index --creators 1000000 --seed 7` starts a PostgreSQL of its own in
`.limelight/bench-discovery` (discovery's schema migrated), loads the index with COPY and prints
what it built, how long it took and what it costs on disk. `--dsn` loads into another database.

What a creator looks like (sources of the figures in bench/discovery_vocab.py):
- followers: Pareto (alpha 0.7, from 1,000, tapered above 5M): ~80 % nano, ~16 % micro, few mega;
- 1-3 accounts (70 % one), the primary account the largest; engagement rate from the platform's
  benchmark curve over followers (HypeAuditor, IQFluence, CreatorIQ), log-normal noise;
- one niche of 25 (a third have a second), a country with its languages and a city, a bio and
  4-6 recent posts written from the niche's vocabulary and hashtags and the country's language,
  brand mentions, some sponsored (#ad or a paid-partnership label), likes/comments/views
  consistent with the engagement rate; follower points and growth over 30/90 days that agree;
- audience: mostly the creator's country, age bands and gender by niche, languages from the
  audience's countries, interests; an audit for 85 %, a sales record for 3 %;
- the search document by the service's own SQL (services/discovery/creator/text.DOCUMENT_SQL);
- **synthetic embeddings**: 384-d unit vectors clustered by niche (a centroid per niche, 40
  topics around it, noise around the topic), not made by the model. Real embedding throughput
  is measured separately (bench/embedding.py).

The rows come from bench/discovery_generate.py; this module loads them and runs the database.

Loading: secondary indexes and constraints of the five tables are dropped first and rebuilt
after the load (`--defer-indexes`, the default on an empty index), which is several times faster
than maintaining them row by row (the HNSW index above all); chunks are generated and copied by
`--workers` processes.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from pgvector.asyncpg import register_vector

from bench.discovery_generate import (  # noqa: F401 (generate and the columns: the benches' way in)
    ACCOUNT_COLUMNS, CREATOR_COLUMNS, POINT_COLUMNS, POST_COLUMNS, SALES_COLUMNS, TABLES, generate,
)
from services.discovery.creator import text
from services.discovery.creator.models import AUDIENCE_VECTOR_SQL

STATE_DIR = Path(__file__).resolve().parent.parent / ".limelight" / "bench-discovery"
async def load(conn: asyncpg.Connection, rows: dict[str, list[tuple]], schema: str = "discovery") -> None:
    """COPY one chunk in one transaction into `schema`'s tables; the search document and the
    audience vector computed by the service's SQL."""
    await register_vector(conn)
    async with conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_stage (LIKE discovery.creators INCLUDING DEFAULTS, captions text)"
            " ON COMMIT DELETE ROWS"
        )
        await conn.copy_records_to_table("bench_stage", records=rows["creators"], columns=[*CREATOR_COLUMNS, "captions"])
        columns = ", ".join(CREATOR_COLUMNS)
        document = text.document_sql("text_config", "bio", "array_to_string(niches, ', ')", "captions")
        await conn.execute(f"INSERT INTO {schema}.creators ({columns}, document, audience_vector)"
                           f" SELECT {columns}, {document}, {AUDIENCE_VECTOR_SQL} FROM bench_stage")
        for table, cols in (("accounts", ACCOUNT_COLUMNS), ("follower_points", POINT_COLUMNS),
                            ("posts", POST_COLUMNS), ("creator_sales", SALES_COLUMNS)):
            if rows[table]:
                await conn.copy_records_to_table(table, schema_name=schema, records=rows[table], columns=cols)


def _chunk(dsn: str, first: int, count: int, seed: int, now: datetime, prefix: str) -> tuple[int, float, float]:
    """One worker's chunk: generate, then COPY. Returns (count, generate seconds, load seconds)."""
    t0 = time.perf_counter()
    rows = generate(first, count, seed, now, prefix)
    t1 = time.perf_counter()

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SET synchronous_commit = off")
            await load(conn, rows)
        finally:
            await conn.close()

    asyncio.run(run())
    return count, t1 - t0, time.perf_counter() - t1


async def drop_indexes(conn: asyncpg.Connection) -> list[str]:
    """Drop the five tables' constraints and indexes; the DDL that puts them back, in order."""
    tables = [f"discovery.{t}" for t in TABLES]
    cons = await conn.fetch(
        "SELECT conrelid::regclass::text AS tbl, conname, contype::text AS contype, pg_get_constraintdef(oid) AS def"
        " FROM pg_constraint WHERE (conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u', 'f'))"
        " OR (confrelid = ANY($1::regclass[]) AND contype = 'f')", tables)
    idx = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i"
        " WHERE i.indrelid = ANY($1::regclass[]) AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u'))", tables)
    restore = [r["def"] for r in idx]
    restore += [f'ALTER TABLE {r["tbl"]} ADD CONSTRAINT "{r["conname"]}" {r["def"]}' for r in cons if r["contype"] != "f"]
    restore += [f'ALTER TABLE {r["tbl"]} ADD CONSTRAINT "{r["conname"]}" {r["def"]}' for r in cons if r["contype"] == "f"]
    async with conn.transaction():
        for r in sorted(cons, key=lambda r: r["contype"] != "f"):  # foreign keys first
            await conn.execute(f'ALTER TABLE {r["tbl"]} DROP CONSTRAINT "{r["conname"]}"')
        for r in idx:
            await conn.execute(f"DROP INDEX {r['name']}")
    return restore


async def restore_indexes(dsn: str, ddl: list[str], say) -> dict[str, float]:
    """Rebuild what drop_indexes dropped: indexes two at a time (one per core), then foreign keys."""
    took: dict[str, float] = {}
    queue = [d for d in ddl if " FOREIGN KEY " not in d]
    # The HNSW build first and alone: it uses parallel workers and most of maintenance_work_mem.
    queue.sort(key=lambda d: "hnsw" not in d.lower())

    async def worker(alone: bool) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SET maintenance_work_mem = '4GB'" if alone else "SET maintenance_work_mem = '512MB'")
            await conn.execute("SET max_parallel_maintenance_workers = 2")
            while queue:
                statement = queue.pop(0)
                t0 = time.perf_counter()
                await conn.execute(statement)
                took[statement] = time.perf_counter() - t0
                say(f"  {took[statement]:7.1f} s  {statement[:110]}")
                if alone:
                    return
        finally:
            await conn.close()

    while queue and "hnsw" in queue[0].lower():
        await worker(alone=True)
    await asyncio.gather(worker(False), worker(False))
    conn = await asyncpg.connect(dsn)
    try:
        for statement in (d for d in ddl if " FOREIGN KEY " in d):
            t0 = time.perf_counter()
            await conn.execute(statement)
            took[statement] = time.perf_counter() - t0
            say(f"  {took[statement]:7.1f} s  {statement[:110]}")
    finally:
        await conn.close()
    return took


async def build(dsn: str, creators: int, seed: int = 7, *, workers: int = 2, chunk: int = 10_000,
                defer_indexes: bool | None = None, prefix: str = "c", first: int = 0, say=print) -> dict:
    """Generate and load `creators` creators; returns timings. `dsn`: asyncpg DSN (superuser or discovery)."""
    conn = await asyncpg.connect(dsn)
    try:
        existing = await conn.fetchval("SELECT count(*) FROM discovery.creators")
        if defer_indexes is None:
            defer_indexes = existing == 0 and creators >= 50_000
        ddl = await drop_indexes(conn) if defer_indexes else []
    finally:
        await conn.close()
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    gen = copy = 0.0
    done = 0
    starts = list(range(first, first + creators, chunk))
    if workers <= 1:
        for start in starts:
            n, g, c = await asyncio.to_thread(_chunk, dsn, start, min(chunk, first + creators - start), seed, now, prefix)
            gen, copy, done = gen + g, copy + c, done + n
    else:
        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(_chunk, dsn, s, min(chunk, first + creators - s), seed, now, prefix) for s in starts]
            for future in futures:
                n, g, c = await asyncio.wrap_future(future)
                gen, copy, done = gen + g, copy + c, done + n
                if done % (chunk * 10) == 0 or done == creators:
                    rate = done / (time.perf_counter() - t0)
                    say(f"  {done:>9,} creators loaded, {rate:,.0f}/s")
    loaded = time.perf_counter() - t0
    indexes = 0.0
    if ddl:
        say(f"rebuilding {len(ddl)} indexes and constraints")
        t1 = time.perf_counter()
        await restore_indexes(dsn, ddl, say)
        indexes = time.perf_counter() - t1
    conn = await asyncpg.connect(dsn)
    try:
        t2 = time.perf_counter()
        for table in TABLES:
            await conn.execute(f"ANALYZE discovery.{table}")
        analyse = time.perf_counter() - t2
    finally:
        await conn.close()
    return {"creators": creators, "seed": seed, "load_s": loaded, "generate_cpu_s": gen, "copy_s": copy,
            "indexes_s": indexes, "analyse_s": analyse, "deferred_indexes": bool(ddl), "built_at": now.isoformat()}


async def describe(dsn: str) -> str:
    """Counts by tier and platform, rows per table, and the size of every table and index."""
    conn = await asyncpg.connect(dsn)
    try:
        lines = []
        tiers = await conn.fetch("SELECT tier, count(*) n FROM discovery.creators GROUP BY 1 ORDER BY min(follower_count)")
        total = sum(r["n"] for r in tiers) or 1
        lines.append("creators by tier:     " + ", ".join(f"{r['tier']} {r['n']:,} ({r['n'] / total:.1%})" for r in tiers))
        plats = await conn.fetch("SELECT platform, count(*) n FROM discovery.creators GROUP BY 1 ORDER BY 2 DESC")
        lines.append("primary platform:     " + ", ".join(f"{r['platform']} {r['n']:,}" for r in plats))
        lines.append("table                  rows        table+toast    indexes      total")
        for table in TABLES:
            r = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM discovery." + table + ") n, pg_table_size($1::regclass) t,"
                " pg_indexes_size($1::regclass) i, pg_total_relation_size($1::regclass) a", f"discovery.{table}")
            lines.append(f"  {table:<18} {r['n']:>11,} {_mb(r['t']):>14} {_mb(r['i']):>11} {_mb(r['a']):>10}")
        idx = await conn.fetch(
            "SELECT c.relname name, am.amname am, pg_relation_size(c.oid) size FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
            " WHERE i.indrelid = ANY($1::regclass[]) ORDER BY 3 DESC", [f"discovery.{t}" for t in TABLES])
        lines.append("indexes:")
        lines += [f"  {r['name']:<58} {r['am']:<6} {_mb(r['size']):>10}" for r in idx]
        db = await conn.fetchval("SELECT pg_database_size(current_database())")
        sb = await conn.fetchval("SHOW shared_buffers")
        lines.append(f"database size {_mb(db)}; PostgreSQL shared_buffers {sb}")
        return "\n".join(lines)
    finally:
        await conn.close()


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n >= 2**20 else f"{n / 1024:,.0f} kB"


def _set_shared_buffers(postgres, server, size: str):
    """`shared_buffers` takes a restart: ALTER SYSTEM, then restart the bench's server."""
    if not re.fullmatch(r"[0-9]{1,6}(kB|MB|GB)", size):
        raise SystemExit(f"--shared-buffers: {size!r} is not a size such as 128MB or 2GB")

    async def current_then_set() -> bool:
        conn = await asyncpg.connect(server.admin_dsn)
        try:
            if await conn.fetchval("SELECT current_setting('shared_buffers') = $1", size):
                return False
            # ALTER SYSTEM takes no bind parameters; the size is checked above.
            await conn.execute(f"ALTER SYSTEM SET shared_buffers = '{size}'")
            return True
        finally:
            await conn.close()

    if asyncio.run(current_then_set()):
        # pg_ctl restart starts the server with the options it had (postmaster.opts): same
        # socket and port, so the `server` pgserver handed out stays valid.
        from pgserver import pg_ctl

        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=postgres.pgdata, user="pgserver" if os.geteuid() == 0 else None)
    return server


def start_postgres(state_dir: Path = STATE_DIR, wipe: bool = False, shared_buffers: str | None = None):
    """The bench's own bundled PostgreSQL (discovery's schema migrated): (postgres, admin dsn, service url).
    `shared_buffers` ("2GB") is set with ALTER SYSTEM and kept for later runs on the same data."""
    from runtime.config import RuntimeSettings
    from runtime.postgres import Postgres
    from shared.migrations import upgrade

    settings = RuntimeSettings(state_dir=state_dir, database_url=None)
    postgres = Postgres(settings)
    if wipe:
        postgres.stop()
        shutil.rmtree(state_dir / "postgres", ignore_errors=True)
        (state_dir / "index.json").unlink(missing_ok=True)
    server = postgres.start()
    if shared_buffers:
        server = _set_shared_buffers(postgres, server, shared_buffers)
    postgres.bootstrap(server)
    url = postgres.service_url(server, "discovery")
    upgrade("discovery", url)
    admin = server.admin_dsn.replace("/postgres?", f"/{postgres.database(server)}?", 1)
    return postgres, admin, url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="generating processes")
    parser.add_argument("--chunk", type=int, default=10_000, help="creators per COPY transaction")
    parser.add_argument("--dsn", help="load into this database (asyncpg DSN) instead of the bench's own PostgreSQL")
    parser.add_argument("--no-wipe", action="store_true", help="add to the bench PostgreSQL's index instead of starting afresh")
    parser.add_argument("--keep-running", action="store_true", help="leave the bench PostgreSQL running")
    args = parser.parse_args(argv)
    postgres = None
    dsn = args.dsn
    if dsn is None:
        postgres, dsn, _ = start_postgres(wipe=not args.no_wipe)
    try:
        print(f"generating {args.creators:,} creators (seed {args.seed}, {args.workers} workers); "
              "embeddings are SYNTHETIC (clustered by niche), not the model's", file=sys.stderr)
        stats = asyncio.run(build(dsn, args.creators, args.seed, workers=args.workers, chunk=args.chunk,
                                  say=lambda s: print(s, file=sys.stderr)))
        print(f"built {args.creators:,} creators in {stats['load_s'] + stats['indexes_s'] + stats['analyse_s']:.0f} s: "
              f"generate+COPY {stats['load_s']:.0f} s (generation {stats['generate_cpu_s']:.0f} s and COPY "
              f"{stats['copy_s']:.0f} s summed over {args.workers} workers), indexes {stats['indexes_s']:.0f} s, "
              f"ANALYZE {stats['analyse_s']:.0f} s")
        print(asyncio.run(describe(dsn)))
        if postgres is not None:
            (STATE_DIR / "index.json").write_text(json.dumps(stats))
        return 0
    finally:
        if postgres is not None and not args.keep_running:
            postgres.stop()


if __name__ == "__main__":
    sys.exit(main())
