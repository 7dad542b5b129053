"""Discovery at scale: search, full-text, lookalikes, brand fit, bulk ingest and embedding rates
on a generated index (bench/discovery_index.py), each beside a baseline measured in the same run.

`python -m bench.discovery_search --creators 1000000` starts (or reuses) the bench PostgreSQL in
`.limelight/bench-discovery`, builds the index once if it is not there with that size and seed,
starts discovery on 127.0.0.1 (`--port`, API-only: no Kafka, no background workers) and calls it
directly with a minted identity token, one request at a time after a warm-up (`--warmup` other
requests of each search mix). The query mix is
fixed by `--seed`. An endpoint the service does not offer yet is skipped with a line saying so.
The index's vectors are SYNTHETIC (clustered by niche): lookalike latency and recall are those
of the HNSW index over such vectors; the embedding rate is measured with the real model.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import psutil

from shared.identity import IDENTITY_HEADER, Identity, IdentitySigner, generate_keypair

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import discovery_index as index  # noqa: E402
from bench import discovery_search_ingest as search_ingest  # noqa: E402
from bench import harness  # noqa: E402
from bench.discovery_mix import COUNTRY_CODES, brief, filter_mix, ingest_line, text_query  # noqa: E402, F401 (ingest_line: discovery_ingest)

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {  # name: (figure, comparison, target, unit)
    "filtered search": ("p95", "<", 50.0, "ms"),
    "full-text + filters": ("p95", "<", 100.0, "ms"),
    "lookalikes": ("p95", "<", 50.0, "ms"),
    "lookalike recall@10": ("mean", ">=", 0.95, ""),
    "brand fit": ("p95", "<", 300.0, "ms"),
    "bulk ingest": ("rate", ">=", search_ingest.TARGET, "creators/s"),
    "embedding": ("rate", None, None, "texts/s"),
}


class Failed(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Client:
    """Direct calls to discovery with a freshly minted identity token (they live 60 s)."""

    def __init__(self, base: str, private_pem: str):
        self.http = httpx.Client(base_url=base, timeout=120)
        self.signer = IdentitySigner(private_pem)
        self.identity = Identity(tenant_id=uuid.uuid4(), subject="bench",
                                 scopes=frozenset({"discovery:read", "discovery:write"}))
        self._token, self._minted = "", 0.0

    def headers(self) -> dict[str, str]:
        if time.monotonic() - self._minted > 20:
            self._token, self._minted = self.signer.token(self.identity, audience="discovery"), time.monotonic()
        return {IDENTITY_HEADER: self._token}

    def call(self, method: str, path: str, **kw) -> tuple[float, httpx.Response]:
        headers = {**self.headers(), **kw.pop("headers", {})}
        t0 = time.perf_counter()
        response = self.http.request(method, path, headers=headers, **kw)
        return (time.perf_counter() - t0) * 1000, response


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


class Bench:
    def __init__(self, args, client: Client, admin: str, paths: set[str], pid: int):
        self.args, self.client, self.admin, self.paths, self.pid = args, client, admin, paths, pid
        self.rows: list[tuple[str, int, float | None, float | None, float | None, str]] = []
        self.baselines: list[str] = []
        self.copy_rate: float | None = None  # creators/s of the ingest baseline (raw COPY)
        self.postgres_pid: int | None = None  # the postmaster: its backends' CPU is the database's side
        self.cpu_lines: list[str] = []  # CPU per creator of the ingest and of its floors

    def has(self, method: str, path: str) -> bool:
        return f"{method} {path}" in self.paths

    def skip(self, name: str, why: str) -> None:
        print(f"  {name}: endpoint not available ({why}), skipped", file=sys.stderr)
        self.rows.append((name, 0, None, None, None, f"skipped: {why}"))

    def timed(self, name: str, requests: list[tuple[str, str, dict]], warmup: int = 5, warm: list | None = None) -> list[float]:
        """Latencies (ms) of the requests one at a time, after a warm-up: the `warm` requests (others
        of the same mix, each measured request then sent once) or else the first `warmup` of
        `requests`; stops at --max-seconds."""
        for method, path, kw in (requests[:warmup] if warm is None else warm):
            _, response = self.client.call(method, path, **kw)
            if response.status_code >= 400:
                raise Failed(response.status_code, f"{name}: {method} {path} -> {response.status_code} {response.text[:300]}")
        times, deadline = [], time.monotonic() + self.args.max_seconds
        for method, path, kw in requests:
            ms, response = self.client.call(method, path, **kw)
            if response.status_code >= 400:
                raise Failed(response.status_code, f"{name}: {method} {path} -> {response.status_code} {response.text[:300]}")
            times.append(ms)
            if ms >= max(times):
                slowest = (ms, kw.get("json") or kw.get("params"))
            if time.monotonic() > deadline:
                break
        print(f"  {name}: slowest {slowest[0]:.1f} ms: {path} {json.dumps(slowest[1], default=str)[:300]}", file=sys.stderr)
        return times

    def record(self, name: str, times: list[float], note: str = "") -> None:
        self.rows.append((name, len(times), statistics.median(times), _pct(times, 95), None, note))

    def measure(self, name: str, requests: list[tuple[str, str, dict]], note: str = "", warmup: int = 5,
                warm: list | None = None) -> None:
        """timed() + record(); an error answer is recorded (and the run goes on) instead of a figure."""
        try:
            self.record(name, self.timed(name, requests, warmup, warm), note)
        except Failed as exc:
            print(f"  {exc}", file=sys.stderr)
            self.rows.append((name, 0, None, None, None, f"FAILED: {str(exc).split(' -> ', 1)[-1][:110]}"))

    def run(self, sample: list[uuid.UUID]) -> None:
        rnd = random.Random(self.args.seed)
        n = self.args.queries
        # Baselines: the same HTTP path for a by-id read; a round trip to PostgreSQL.
        by_id = self.timed("baseline", [("GET", f"/creators/{cid}", {}) for cid in sample[:n]])
        self.baselines.append(f"GET /creators/{{id}} p50 {statistics.median(by_id):.2f} ms, p95 {_pct(by_id, 95):.2f} ms")
        self.record("baseline: GET /creators/{id}", by_id)
        select1 = asyncio.run(self._select1(n))
        self.record("baseline: SELECT 1 (asyncpg)", select1)

        if self.has("POST", "/search"):
            # Each search measurement is warmed up with --warmup other requests of its mix (from
            # another seed): the latencies of a server that has been answering such searches, not
            # of its first minutes after a restart, and no measured request is a repeat.
            wrnd, w = random.Random(self.args.seed + 1), self.args.warmup

            def filtered(r, facets=False):
                return ("POST", "/search", {"json": {"filters": filter_mix(r), "sort": "-followers", "limit": 20,
                                                     **({"facets": True} if facets else {})}})

            def full_text(r):
                q, filters = text_query(r)
                return ("POST", "/search", {"json": {"q": q, "filters": filters, "limit": 20}})

            def semantic(r):
                return ("POST", "/search", {"json": {"q": brief(r)["description"], "mode": "semantic", "limit": 20}})

            self.measure("filtered search", [filtered(rnd) for _ in range(n)], warm=[filtered(wrnd) for _ in range(w)])
            self.measure("full-text + filters", [full_text(rnd) for _ in range(n)], warm=[full_text(wrnd) for _ in range(w)])
            self.measure("filtered search + facets", [filtered(rnd, True) for _ in range(n // 2)],
                         "same mix, facet counts by tier, platform, country, language",
                         warm=[filtered(wrnd, True) for _ in range(w // 2)])
            self.measure("semantic search", [semantic(rnd) for _ in range(n // 2)],
                         "natural-language q, mode semantic (the query embedded by the real model)",
                         warm=[semantic(wrnd) for _ in range(w // 4)])
        else:
            self.skip("filtered search", "POST /search")
            self.skip("full-text + filters", "POST /search")

        if self.has("GET", "/creators/{creator_id}/lookalikes"):
            self.lookalikes(sample, rnd)
        else:
            self.skip("lookalikes", "GET /creators/{creator_id}/lookalikes")

        if self.has("POST", "/brand-fit"):
            reqs = [("POST", "/brand-fit", {"json": brief(rnd)}) for _ in range(max(10, n // 4))]
            self.measure("brand fit", reqs, warmup=3)
        else:
            self.skip("brand fit", "POST /brand-fit")

        if self.has("POST", "/creators/bulk"):
            self.ingest()
        else:
            self.skip("bulk ingest", "POST /creators/bulk")
        self.embedding()

    async def _select1(self, n: int) -> list[float]:
        conn = await asyncpg.connect(self.admin)
        try:
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                await conn.fetchval("SELECT 1")
                times.append((time.perf_counter() - t0) * 1000)
            return times
        finally:
            await conn.close()

    def lookalikes(self, sample: list[uuid.UUID], rnd: random.Random) -> None:
        n = min(len(sample), self.args.queries)
        plain = sample[:n]
        reqs = [("GET", f"/creators/{cid}/lookalikes", {"params": {"basis": "content", "limit": 10}}) for cid in plain]
        # A third with filters (the same filters as search), for latency only.
        reqs += [("GET", f"/creators/{cid}/lookalikes",
                  {"params": {"basis": "content", "limit": 10, "country": rnd.choice(COUNTRY_CODES[:6])}})
                 for cid in sample[n: n + n // 2]]
        self.measure("lookalikes", reqs, "a third filtered by country")
        if not self.rows[-1][1]:
            return
        checked = plain[: self.args.recall_queries]
        found = []
        for cid in checked:
            _, response = self.client.call("GET", f"/creators/{cid}/lookalikes", params={"basis": "content", "limit": 10})
            found.append([item["id"] for item in response.json()["items"]])
        exact = asyncio.run(self._exact(checked))
        recall = [len(set(f) & set(e)) / max(1, len(e)) for f, e in zip(found, exact, strict=True)]
        self.rows.append(("lookalike recall@10", len(recall), None, None, statistics.mean(recall),
                          "vs exact cosine top-10 (sequential scan, no index)"))

    async def _exact(self, ids: list[uuid.UUID]) -> list[list[str]]:
        conn = await asyncpg.connect(self.admin)
        try:
            out = []
            for cid in ids:
                async with conn.transaction():
                    await conn.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off")
                    rows = await conn.fetch(
                        "SELECT id FROM discovery.creators WHERE id <> $1 AND embedding IS NOT NULL ORDER BY embedding <=>"
                        " (SELECT embedding FROM discovery.creators WHERE id = $1) LIMIT 10", cid)
                out.append([str(r["id"]) for r in rows])
            return out
        finally:
            await conn.close()

    def ingest(self) -> None:
        """The bulk-ingest row, its raw COPY baselines and CPU per creator (discovery_search_ingest.py)."""
        search_ingest.measure(self)

    def embedding(self) -> None:
        """Texts/s of the real model, one thread: bench/embedding.py's texts and rate() when it is
        there, else the service's encoder on this index's texts made as the worker makes them."""
        try:
            from bench import embedding as embedding_bench  # the embedding benchmark, when present
        except ImportError:
            embedding_bench = None
        try:
            from services.discovery.embedding.encoder import Encoder
        except ImportError:
            self.rows.append(("embedding", 0, None, None, None, "skipped: no encoder (services/discovery/embedding)"))
            return
        if hasattr(embedding_bench, "rate") and hasattr(embedding_bench, "creator_text"):
            rnd = random.Random(self.args.seed)  # bench/embedding.py's mix of text lengths, its timing
            texts = [embedding_bench.creator_text(rnd) for _ in range(self.args.embed_texts)]
            rate = embedding_bench.rate(Encoder(threads=1), texts)
            self.rows.append(("embedding", len(texts), None, None, rate,
                              "all-MiniLM-L6-v2 in numpy, 1 thread, bench/embedding.py's texts and rate()"))
            return
        rows = index.generate(3 * 10**8, self.args.embed_texts, self.args.seed, index.datetime.now(index.UTC), "e")
        captions: dict = {}
        for p in rows["posts"]:
            captions.setdefault(p[1], []).append(p[8])
        texts = [index.text.embedding_text(c[10], c[11], captions.get(c[0], [])) for c in rows["creators"]]
        encoder = Encoder(threads=1)
        encoder.encode(texts[:32])  # warm-up
        t0 = time.perf_counter()
        encoder.encode(texts)
        rate = len(texts) / (time.perf_counter() - t0)
        self.rows.append(("embedding", len(texts), None, None, rate,
                          "all-MiniLM-L6-v2 in numpy, 1 thread, bio+niches+captions texts (the worker's)"))

    def record_figures(self) -> None:
        """The headline rows for bench/run_all.py: latencies beside the by-id read's p95, ingest beside the COPY."""
        rows = {name: (p95, value, note) for name, _, _, p95, value, note in self.rows}
        by_id = rows.get("baseline: GET /creators/{id}", (None,))[0]
        scale = f"{self.args.creators:,}-creator index"

        def note(name: str) -> str:
            return "; ".join(filter(None, (scale, rows[name][2] if name in rows else "not measured")))

        for name in ("filtered search", "full-text + filters", "lookalikes", "brand fit"):
            harness.record(f"{name} p95", rows.get(name, (None,))[0], "ms", target=TARGETS[name][2],
                           baseline="GET /creators/{id} p95", baseline_value=by_id, note=note(name))
        harness.record("lookalike recall@10", rows.get("lookalike recall@10", (None, None))[1], "ratio",
                       target=TARGETS["lookalike recall@10"][2], better="higher", note=note("lookalike recall@10"))
        harness.record("bulk ingest", rows.get("bulk ingest", (None, None))[1], "creators/s",
                       target=TARGETS["bulk ingest"][2], better="higher", baseline="raw COPY",
                       baseline_value=self.copy_rate, note=note("bulk ingest"))

    def report(self) -> str:
        out = ["", f"{'measure':<32}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'value':>11}   {'target':<26}result  note"]
        for name, count, p50, p95, value, note in self.rows:
            target = TARGETS.get(name)
            verdict, goal = "", ""
            if target and target[2] is not None and (p95 is not None or value is not None):
                figure = p95 if target[0] == "p95" else value
                ok = figure < target[2] if target[1] == "<" else figure >= target[2]
                verdict, goal = ("PASS" if ok else "MISS"), f"{target[0]} {target[1]} {target[2]:g} {target[3]}"
            elif target and target[2] is not None:
                goal = f"{target[0]} {target[1]} {target[2]:g} {target[3]}"
            out.append(f"{name:<32}{count:>6}{_f(p50, 9)}{_f(p95, 9)}{_f(value, 11)}   {goal:<26}{verdict:<8}{note}")
        out.append("baselines: " + "; ".join(self.baselines))
        return "\n".join(out)


def _f(v: float | None, width: int) -> str:
    if v is None:
        return " " * width
    return f"{v:>{width},.2f}" if v < 100 else f"{v:>{width},.0f}"


def _serve(port: int, database_url: str, public_pem: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "RUN_BACKGROUND_WORKERS": "false", "LOG_LEVEL": "WARNING",
           "IDENTITY_PUBLIC_KEY": public_pem, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "uvicorn", "services.discovery.main:create_app", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log", "--loop", "uvloop", "--http", "httptools"]
    return subprocess.Popen(argv, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def _wait(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("discovery exited; see its log in .limelight/bench-discovery/discovery.log")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError("discovery did not answer /healthz")


async def _sample(admin: str, seed: int, n: int) -> tuple[list[uuid.UUID], int]:
    conn = await asyncpg.connect(admin)
    try:
        total = await conn.fetchval("SELECT count(*) FROM discovery.creators WHERE embedding IS NOT NULL")
        pct = min(100.0, 100.0 * n * 3 / max(total, 1))
        rows = await conn.fetch(
            f"SELECT id FROM discovery.creators TABLESAMPLE BERNOULLI ({pct}) REPEATABLE ({seed})"
            " WHERE embedding IS NOT NULL ORDER BY id LIMIT $1", n * 2)
        ids = [r["id"] for r in rows]
        random.Random(seed).shuffle(ids)
        return ids, total
    finally:
        await conn.close()


def _postgres_memory(postgres) -> str:
    """Resident memory of the PostgreSQL processes, their shared memory (shared_buffers) counted once."""
    info = postgres.running_info()
    if info is None or not info.pid:
        return "not measured"
    main = psutil.Process(info.pid)
    procs = [main, *main.children(recursive=True)]
    private = sum(p.memory_info().rss - p.memory_info().shared for p in procs)
    shared = max(p.memory_info().shared for p in procs)
    return f"{len(procs)} processes, {(private + shared) / 2**20:,.0f} MB resident (shared {shared / 2**20:,.0f} MB)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000, help="size of the generated index")
    parser.add_argument("--seed", type=int, default=7, help="index and query mix")
    parser.add_argument("--port", type=int, default=25601)
    parser.add_argument("--queries", type=int, default=200, help="requests per latency measurement")
    parser.add_argument("--warmup", type=int, default=50, help="other requests of the same mix sent before each search measurement")
    parser.add_argument("--recall-queries", type=int, default=30, help="lookalike queries checked against exact search")
    parser.add_argument("--max-seconds", type=float, default=60, help="cap per latency measurement")
    parser.add_argument("--ingest-batches", type=int, default=5)
    parser.add_argument("--ingest-lines", type=int, default=5000)
    parser.add_argument("--embed-texts", type=int, default=64, help="texts embedded for the embedding rate")
    parser.add_argument("--rebuild", action="store_true", help="generate the index again even if it is there")
    parser.add_argument("--shared-buffers", help="PostgreSQL shared_buffers for the run, e.g. 2GB (kept for later runs)")
    parser.add_argument("--only-ingest", action="store_true",
                        help="measure only the bulk ingest and its raw COPY baseline (no search, no embedding)")
    args = parser.parse_args(argv)
    state = index.STATE_DIR
    meta = state / "index.json"
    built = json.loads(meta.read_text()) if meta.exists() else {}
    fresh = args.rebuild or built.get("creators") != args.creators or built.get("seed") != args.seed
    postgres, admin, url = index.start_postgres(wipe=fresh, shared_buffers=args.shared_buffers)
    process = None
    try:
        if fresh:
            print(f"building the index: {args.creators:,} creators (SYNTHETIC vectors, clustered by niche)", file=sys.stderr)
            stats = asyncio.run(index.build(admin, args.creators, args.seed, say=lambda s: print(s, file=sys.stderr)))
            meta.write_text(json.dumps(stats))
            built = stats
        private_pem, public_pem = generate_keypair()
        process = _serve(args.port, url, public_pem, state / "discovery.log")
        base = f"http://127.0.0.1:{args.port}"
        _wait(base, process)
        spec = httpx.get(f"{base}/openapi.json").json()
        paths = {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}
        sample, embedded = asyncio.run(_sample(admin, args.seed, args.queries))
        bench = Bench(args, Client(base, private_pem), admin, paths, process.pid)
        bench.postgres_pid = postgres.running_info().pid
        load0 = os.getloadavg()[0]
        if args.only_ingest:
            bench.ingest()
            rate = bench.rows[-1][4]
            print(f"bulk ingest at {args.creators:,} creators: {rate:,.0f} creators/s ({bench.rows[-1][5]}); "
                  f"{'; '.join(bench.baselines)}; load average {load0:.1f} -> {os.getloadavg()[0]:.1f}")
            print("\n".join(bench.cpu_lines))
            return 0
        bench.run(sample)
        rss = psutil.Process(process.pid).memory_info().rss
        print(f"discovery at scale: {args.creators:,} generated creators ({embedded:,} with SYNTHETIC embeddings, "
              f"clustered by niche), seed {args.seed}; built {built.get('built_at', '?')}; "
              f"{os.cpu_count()} cores, load average {load0:.1f} -> {os.getloadavg()[0]:.1f}; direct calls on loopback, "
              f"one at a time; each search measurement after {args.warmup} other requests of its mix")
        print("query mix: filtered = 8 shapes (country+tier, country+niche+ER, niche+tiers+audience country, "
              "platform+follower range+language, country+niche+audience gender+age, niche+authenticity+contactable+recent, "
              "micro+country+growth+ER, niche+ER range+audience language+top tiers), sort -followers, limit 20; "
              "full-text = 1-3 niche words (+ a hashtag) with 1-3 of those filters; lookalikes basis=content limit 10")
        print(bench.report())
        print("\n".join(bench.cpu_lines))
        bench.record_figures()
        print(f"memory: discovery RSS {rss / 2**20:,.0f} MB after the run; PostgreSQL {_postgres_memory(postgres)}")
        print(asyncio.run(index.describe(admin)))
        return 0
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        postgres.stop()


if __name__ == "__main__":
    sys.exit(main())
