"""Bulk creator ingest: creators/s of `POST /creators/bulk`'s write path, beside baselines of the
same run.

`python -m bench.discovery_ingest` wipes and starts its own PostgreSQL in `.limelight/bench-ingest`
(discovery's schema migrated), fills it with `--prefill` generated creators (bench/discovery_index.py,
indexes built after the COPY), then measures, on generated NDJSON lines in the single-write shape
(accounts with figures, posts, follower history, audience, prices, contact):

- **before**: the same, with the audience vector's HNSW index that migration 0013 dropped built
  again for the row (the index ingest maintained until then), then dropped;
- **bulk**: `bulk.ingest_lines` in-process (the route's code after the body is read), one
  transaction per request, `--batches` x `--lines` new creators;
- **replay**: the same requests again (every line unchanged: nothing written, no events);
- **update**: the same creators with new posts, a follower point and a new audience each;
- **baseline, single writes**: `service.create` one creator per transaction (what POST /creators
  does after validation), `--single` lines;
- **HTTP** (`--http`): the bulk requests through uvicorn (discovery, API-only) with a minted
  identity, so the request's parse, validation and answer are counted too.

In-process measurements run on uvloop, like the service. Figures go to stdout, progress to
stderr. Nothing else on the machine is touched.
"""

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import discovery_index as index  # noqa: E402
from bench.harness import record  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = ROOT / ".limelight" / "bench-ingest"


def ndjson(first: int, count: int, seed: int, tag: str) -> bytes:
    """`count` generated creators numbered from `first`, one NDJSON line each (handles start with `tag`)."""
    from bench.discovery_search import ingest_line

    rows = index.generate(first, count, seed, datetime.now(UTC), tag)
    posts: dict = {}
    for p in rows["posts"]:
        posts.setdefault(p[1], []).append(p)
    accounts: dict = {}
    owner = {}
    for a in rows["accounts"]:
        accounts.setdefault(a[1], []).append(a)
        owner[a[0]] = a[1]
    points: dict = {}
    for pt in rows["follower_points"]:
        points.setdefault(owner[pt[0]], []).append(pt)
    lines = (json.dumps(ingest_line(c, posts.get(c[0], []), accounts[c[0]], points.get(c[0], []))) for c in rows["creators"])
    return ("\n".join(lines) + "\n").encode()


def refreshed(body: bytes, step: int) -> bytes:
    """The same creators a day later: one new post, a new follower point and a new audience estimate each."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    out = []
    for raw in body.splitlines():
        line = json.loads(raw)
        primary = line["accounts"][0]
        primary["followers"] = int(primary["followers"] * 1.01) + 1
        primary["observed_at"] = (now - timedelta(seconds=step)).isoformat()
        line["posts"] = [{"external_id": f"{primary['handle']}-r{step}", "posted_at": now.isoformat(), "type": "photo",
                          "caption": "fresh post #new", "likes": 10, "comments": 1}]
        line.pop("follower_points", None)
        line["audience"]["estimated_at"] = now.isoformat()
        line["audience"]["source"] = f"refresh {step}"
        out.append(json.dumps(line))
    return ("\n".join(out) + "\n").encode()


async def in_process(url: str, bodies: list[bytes]) -> tuple[float, list[dict]]:
    """Seconds for `bodies`, each through bulk.ingest_lines in one transaction; the answers."""
    from services.discovery.creator import bulk
    from shared.db import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=1)
    sessions = make_sessionmaker(engine)
    answers, took = [], 0.0
    try:
        for body in bodies:
            t0 = time.perf_counter()
            async with sessions() as session:
                result = await bulk.ingest_lines(session, body)
                await session.commit()
            took += time.perf_counter() - t0
            answers.append(result.model_dump())
    finally:
        await engine.dispose()
    return took, answers


async def singles(url: str, body: bytes) -> float:
    """Seconds for each line of `body` through service.create, one transaction per creator."""
    from services.discovery.creator import service
    from services.discovery.creator.schemas import CreatorCreate

    from shared.db import make_engine, make_sessionmaker

    engine = make_engine(url, pool_size=1)
    make = make_sessionmaker(engine)
    try:
        t0 = time.perf_counter()
        for raw in body.splitlines():
            data = CreatorCreate.model_validate_json(raw)
            async with make() as session:
                await service.create(session, data)
                await session.commit()
        return time.perf_counter() - t0
    finally:
        await engine.dispose()


def over_http(url: str, bodies: list[bytes], port: int) -> tuple[float, list[dict]]:
    import httpx

    from bench.discovery_search import Client, _serve, _wait
    from shared.identity import generate_keypair

    private_pem, public_pem = generate_keypair()
    process = _serve(port, url, public_pem, STATE_DIR / "discovery.log")
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base, process)
        client = Client(base, private_pem)
        client.http.timeout = httpx.Timeout(600)
        took, answers = 0.0, []
        for body in bodies:
            ms, response = client.call("POST", "/creators/bulk", content=body, headers={"Content-Type": "application/x-ndjson"})
            if response.status_code != 200:
                raise RuntimeError(f"bulk -> {response.status_code} {response.text[:300]}")
            took += ms / 1000
            answers.append(response.json())
        return took, answers
    finally:
        process.terminate()
        process.wait(timeout=20)


# As migration 0012 left it (0010 made it); 0013 dropped it.
AUDIENCE_HNSW = (
    "CREATE INDEX ix_discovery_creators_audience_vector_hnsw ON discovery.creators"
    " USING hnsw (audience_vector vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
)


async def execute(admin: str, statement: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def outbox_rows(admin: str) -> int:
    conn = await asyncpg.connect(admin)
    try:
        return await conn.fetchval("SELECT count(*) FROM discovery.outbox")
    finally:
        await conn.close()


def _sum(answers: list[dict], key: str) -> int:
    return sum(a[key] for a in answers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefill", type=int, default=20_000, help="creators in the index before measuring")
    parser.add_argument("--batches", type=int, default=4, help="bulk requests measured")
    parser.add_argument("--lines", type=int, default=5000, help="NDJSON lines per request")
    parser.add_argument("--single", type=int, default=500, help="creators written one per transaction (baseline)")
    parser.add_argument("--http", action="store_true", help="also send the bulk requests through uvicorn")
    parser.add_argument("--port", type=int, default=25611, help="discovery for --http, on 127.0.0.1")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="reuse the prefilled database if it is there")
    parser.add_argument("--no-before", action="store_true", help="skip the row with the audience HNSW index")
    args = parser.parse_args(argv)
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # the service's loop (uvicorn --loop uvloop)

    meta = STATE_DIR / "index.json"
    fresh = not (args.keep and meta.exists() and json.loads(meta.read_text()).get("creators") == args.prefill)
    postgres, admin, url = index.start_postgres(STATE_DIR, wipe=fresh)
    try:
        if fresh and args.prefill:
            say = lambda s: print(s, file=sys.stderr)  # noqa: E731
            say(f"prefilling {args.prefill:,} creators")
            meta.write_text(json.dumps(asyncio.run(index.build(admin, args.prefill, args.seed, defer_indexes=True, say=say))))
            # so that autovacuum does not start on the fresh tables in the middle of a measurement
            asyncio.run(execute(admin, "VACUUM (ANALYZE) discovery.creators, discovery.accounts, discovery.posts,"
                                       " discovery.follower_points"))
        tag = f"g{int(time.time()) % 100000}x"
        load0 = os.getloadavg()[0]
        print(f"bulk ingest: {os.cpu_count()} cores, load average {load0:.1f}; index of {args.prefill:,} creators;"
              f" {args.batches} x {args.lines:,} lines per measurement", flush=True)
        rows: list[tuple[str, int, float, str]] = []

        def row(name: str, n: int, seconds: float, note: str = "") -> None:
            rows.append((name, n, seconds, note))
            print(f"  {name:<34}{n:>8,}{n / seconds:>12,.0f} creators/s   {note}", flush=True)

        # warm-up: imports, prepared statements, the pool; then, as the service does once started,
        # everything alive is frozen out of the collector's way (shared/app.py)
        asyncio.run(in_process(url, [ndjson(10**8, 200, args.seed, tag + "w")]))
        gc.freeze()
        n = args.batches * args.lines
        if not args.no_before:
            bodies = [ndjson(2 * 10**8 + b * args.lines, args.lines, args.seed, tag + "b") for b in range(args.batches)]
            asyncio.run(execute(admin, f"SET maintenance_work_mem = '256MB'; {AUDIENCE_HNSW}"))
            took, answers = asyncio.run(in_process(url, bodies))
            asyncio.run(execute(admin, "DROP INDEX discovery.ix_discovery_creators_audience_vector_hnsw"))
            row("before: with the audience HNSW", n, took, f"created {_sum(answers, 'created'):,}; the index migration 0013"
                " dropped, built again for this row")
        bodies = [ndjson(10**8 + (b + 1) * args.lines, args.lines, args.seed, tag) for b in range(args.batches)]
        before = asyncio.run(outbox_rows(admin))
        took, answers = asyncio.run(in_process(url, bodies))
        events = asyncio.run(outbox_rows(admin)) - before
        row("bulk, new creators", n, took, f"created {_sum(answers, 'created'):,}, failed {_sum(answers, 'failed')},"
            f" {events:,} outbox events")
        took, answers = asyncio.run(in_process(url, bodies))
        events = asyncio.run(outbox_rows(admin)) - before - events
        row("bulk, replay (unchanged)", n, took, f"unchanged {_sum(answers, 'unchanged'):,}, {events} outbox events")
        updates = [refreshed(body, i) for i, body in enumerate(bodies)]
        before = asyncio.run(outbox_rows(admin))
        took, answers = asyncio.run(in_process(url, updates))
        events = asyncio.run(outbox_rows(admin)) - before
        row("bulk, updates (post+point+audience)", n, took, f"updated {_sum(answers, 'updated'):,}, {events:,} outbox events")
        if args.single:
            body = ndjson(3 * 10**8, args.single, args.seed, tag + "s")
            row("baseline: single writes", args.single, asyncio.run(singles(url, body)), "service.create, one transaction each")
        if args.http:
            bodies = [ndjson(4 * 10**8 + b * args.lines, args.lines, args.seed, tag + "h") for b in range(args.batches)]
            took, answers = over_http(url, bodies, args.port)
            row("bulk over HTTP, new creators", n, took, f"created {_sum(answers, 'created'):,}, uvicorn, direct call")
        print(f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f}")
        rates = {name: count / seconds for name, count, seconds, _ in rows}
        single = rates.get("baseline: single writes")
        scale = f"index of {args.prefill:,} creators, {args.batches} x {args.lines:,} lines"
        for name, figure, target in (("bulk, new creators", "bulk ingest, new creators", 2000.0),
                                     ("bulk, updates (post+point+audience)", "bulk ingest, updates", None),
                                     ("bulk over HTTP, new creators", "bulk ingest over HTTP", 2000.0)):
            if name in rates:
                record(figure, rates[name], "creators/s", target=target, better="higher",
                       baseline="single writes" if single else None, baseline_value=single, note=scale)
        return 0
    finally:
        postgres.stop()


if __name__ == "__main__":
    sys.exit(main())
