"""The bulk-ingest row of discovery_search.py at scale: the service's bulk ingest, beside a raw COPY
of the same generated creators into the indexed tables (on one connection, and on as many as there
are cores), and into copies of the tables with no index or key; CPU per creator for each, against
what the 2,000 creators/s target leaves on this machine's cores (bench/README.md)."""

import asyncio
import os
import time

import asyncpg
import psutil

from bench import discovery_index as index
from bench import harness
from bench.discovery_ingest import ndjson

TARGET = 2000.0  # creators/s: the ingest target


def measure(bench) -> None:
    batches, lines = bench.args.ingest_batches, bench.args.ingest_lines
    total, seconds, errors = 0, 0.0, 0
    tag = f"i{int(time.time()) % 100000}x"
    service_cpu = pg_cpu = 0.0
    for b in range(batches + 1):  # the first batch is the warm-up
        body = ndjson(10**8 + b * lines, lines if b else 200, bench.args.seed, tag)
        postgres, service = harness.PostgresCpu(bench.postgres_pid), harness.cpu_seconds(psutil.Process(bench.pid))
        ms, response = bench.client.call("POST", "/creators/bulk", content=body,
                                        headers={"Content-Type": "application/x-ndjson"})
        if response.status_code >= 400:
            raise RuntimeError(f"bulk ingest -> {response.status_code} {response.text[:500]}")
        result = response.json()
        if b:
            service_cpu += harness.cpu_seconds(psutil.Process(bench.pid)) - service
            pg_cpu += postgres.spent()
            total += lines
            seconds += ms / 1000
            errors += len(result.get("errors", []))
            if seconds > bench.args.max_seconds:  # bounded like the latency measurements
                batches = b
                break
    asyncio.run(forget(bench, tag))
    bench.rows.append(("bulk ingest", total, None, None, total / seconds,
                      f"{batches} x {lines} NDJSON lines, {errors} lines refused"))
    # Baseline: the generator's own COPY of as many creators (accounts, posts, points included).
    rows = index.generate(2 * 10**8, min(lines, 2000), bench.args.seed, index.datetime.now(index.UTC), tag + "c")
    # Without embeddings, as ingested creators arrive (the worker embeds them later).
    at = index.CREATOR_COLUMNS.index("embedding")
    rows["creators"] = [(*c[:at], None, None, True, None, *c[at + 4:]) for c in rows["creators"]]

    async def copy(*parts: dict, schema: str = "discovery") -> tuple[float, float]:
        """Each part COPYed on a connection of its own, all at once: the wall time and PostgreSQL's
        CPU seconds (read while the connections' backends are still there to be read)."""
        conns = [await asyncpg.connect(bench.admin) for _ in parts]
        try:
            postgres = harness.PostgresCpu(bench.postgres_pid)
            t0 = time.perf_counter()
            await asyncio.gather(*(index.load(conn, part, schema) for conn, part in zip(conns, parts)))
            return time.perf_counter() - t0, postgres.spent()
        finally:
            for conn in conns:
                await conn.close()

    took, copy_cpu = asyncio.run(copy(rows))
    lines = len(rows["creators"])
    bench.copy_rate = lines / took
    asyncio.run(forget(bench, tag))
    bench.baselines.append(f"raw COPY of {lines:,} generated creators with accounts, posts, points, audience"
                          f" (no embedding) into the indexed tables: {lines / took:,.0f} creators/s")
    # The same COPY with PostgreSQL on every core: as many connections as cores, each its share of
    # twice as many creators at once (nothing else running: the most this database can take in).
    cores = os.cpu_count() or 1
    wide = index.generate(3 * 10**8, cores * len(rows["creators"]), bench.args.seed, index.datetime.now(index.UTC),
                          tag + "w")
    wide["creators"] = [(*c[:at], None, None, True, None, *c[at + 4:]) for c in wide["creators"]]
    took_wide, wide_cpu = asyncio.run(copy(*_parts(wide, cores)))
    wide_lines = len(wide["creators"])
    asyncio.run(forget(bench, tag))
    bench.baselines.append(f"the same COPY on {cores} connections at once ({wide_lines:,} creators): "
                          f"{wide_lines / took_wide:,.0f} creators/s")
    # And the same creators into copies of the tables without an index or a key: what is left of
    # PostgreSQL's side when no index is maintained (the heap, the WAL, the computed document and
    # audience vector).
    bare_rate, bare_cpu = asyncio.run(_bare_copy(bench, copy, rows))
    bench.baselines.append(f"the same COPY into the tables without indexes or keys: {bare_rate:,.0f} creators/s")
    target = TARGET
    bench.cpu_lines = [
        f"CPU per creator: bulk ingest {1000 * service_cpu / total:.2f} ms discovery + {1000 * pg_cpu / total:.2f} ms "
        f"PostgreSQL; raw COPY {1000 * copy_cpu / lines:.2f} ms PostgreSQL (one connection), "
        f"{1000 * wide_cpu / wide_lines:.2f} ms ({cores} connections), {1000 * bare_cpu:.2f} ms without indexes or keys",
        f"the target's CPU budget: {cores} cores / {target:,.0f} creators/s = {1000 * cores / target:.2f} ms per "
        "creator for everything on the machine",
    ]

async def _bare_copy(bench, copy, rows: dict) -> tuple[float, float]:
    """The raw COPY into a scratch schema of the same tables with their defaults and nothing else
    (dropped afterwards): creators/s and PostgreSQL CPU seconds per creator."""
    conn = await asyncpg.connect(bench.admin)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS bench_bare CASCADE; CREATE SCHEMA bench_bare")
        for table in index.TABLES:
            await conn.execute(f"CREATE TABLE bench_bare.{table} (LIKE discovery.{table} INCLUDING DEFAULTS"
                               " INCLUDING GENERATED)")
        lines = len(rows["creators"])
        took, cpu = await copy(rows, schema="bench_bare")
        return lines / took, cpu / lines
    finally:
        await conn.execute("DROP SCHEMA IF EXISTS bench_bare CASCADE")
        await conn.close()

async def forget(bench, tag: str) -> None:
    """Remove what the ingest measurement added, so that runs stay comparable."""
    conn = await asyncpg.connect(bench.admin)
    try:
        await conn.execute("DELETE FROM discovery.accounts WHERE handle LIKE $1", tag + "%")
        await conn.execute("DELETE FROM discovery.creators WHERE handle LIKE $1", tag + "%")
    finally:
        await conn.close()


def _parts(rows: dict[str, list[tuple]], n: int) -> list[dict[str, list[tuple]]]:
    """The generated rows cut into `n` sets of whole creators (each creator's accounts, points,
    posts and sales with it)."""
    creators = rows["creators"]
    share = -(-len(creators) // n)
    parts = []
    for k in range(n):
        ids = {c[0] for c in creators[k * share:(k + 1) * share]}
        accounts = [a for a in rows["accounts"] if a[1] in ids]
        account_ids = {a[0] for a in accounts}
        parts.append({"creators": creators[k * share:(k + 1) * share], "accounts": accounts,
                      "follower_points": [p for p in rows["follower_points"] if p[0] in account_ids],
                      "posts": [p for p in rows["posts"] if p[1] in ids],
                      "creator_sales": [s for s in rows["creator_sales"] if s[0] in ids]})
    return parts


# -- the query mix ------------------------------------------------------------------------------
