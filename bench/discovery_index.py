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

Loading: secondary indexes and constraints of the five tables are dropped first and rebuilt
after the load (`--defer-indexes`, the default on an empty index), which is several times faster
than maintaining them row by row (the HNSW index above all); chunks are generated and copied by
`--workers` processes.
"""

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import numpy as np
from pgvector.asyncpg import register_vector

from bench.discovery_vocab import (
    ADJECTIVES, AGE_BANDS, BRANDS, COUNTRIES, COUNTRY_LANGUAGE, DELIVERABLES, ER_CURVES, NEIGHBOURS, NICHE_WEIGHTS,
    NICHES, PLATFORM_WEIGHTS, PLATFORMS, POST_TYPES,
)
from services.discovery.creator import text
from services.discovery.creator.models import AUDIENCE_VECTOR_SQL

STATE_DIR = Path(__file__).resolve().parent.parent / ".limelight" / "bench-discovery"
DIM = 384
TOPICS_PER_NICHE = 40
TABLES = ("creators", "accounts", "follower_points", "posts", "creator_sales")
ER_FORMULA = "(avg_likes + avg_comments) / followers"
VIDEO_TYPES = {"reel", "video", "short", "live", "story"}
FIRST_NAMES = ("Alex Sam Maria Lena Jonas Emma Noah Mia Luca Sofia Leo Chloe Hugo Ines Mateo Lucia Ava Liam "
               "Aria Omar Priya Arjun Yuki Ana Pedro Julia Max Nora Finn Zoe").split()

CREATOR_COLUMNS = (
    "id", "platform", "handle", "follower_count", "engagement_rate", "growth_30d", "growth_90d", "platforms",
    "followers_total", "display_name", "bio", "niches", "languages", "country", "city", "contact", "contactable",
    "price_estimates", "last_posted_at", "audience_countries", "audience_ages", "audience_genders",
    "audience_languages", "audience_interests", "audience_estimated_at", "audience_source", "audit_id",
    "audit_status", "audit_score", "audit_grade", "audit_audience_quality", "audit_flags", "audit_updated_at",
    "audit_sequence", "text_config", "embedding", "embedding_text_hash", "embedding_stale", "embedded_at",
    "created_at", "updated_at",
)
ACCOUNT_COLUMNS = (
    "id", "creator_id", "platform", "handle", "url", "followers", "following", "posts_count", "avg_likes",
    "avg_comments", "avg_views", "engagement_rate", "engagement_formula", "metrics_at", "created_at", "updated_at",
)
POINT_COLUMNS = ("account_id", "observed_at", "followers")
POST_COLUMNS = (
    "id", "creator_id", "account_id", "platform", "external_id", "url", "posted_at", "type", "caption", "hashtags",
    "mentions", "likes", "comments", "views", "paid_partnership", "sponsored", "created_at", "updated_at",
)
SALES_COLUMNS = ("creator_id", "currency", "clicks", "orders", "revenue_minor", "commission_minor", "as_of")


def centroids(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit centroids per niche and per topic (TOPICS_PER_NICHE per niche), the same for every chunk."""
    rng = np.random.default_rng([seed, 0xC0FFEE])
    niche = _unit(rng.standard_normal((len(NICHES), DIM)))
    noise = _unit(rng.standard_normal((len(NICHES), TOPICS_PER_NICHE, DIM)))
    topics = _unit(niche[:, None, :] + 0.8 * noise)
    return niche, topics


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def _er(platform: str, followers: float) -> float:
    curve = ER_CURVES[platform]
    return float(np.interp(math.log10(max(followers, 1)), [x for x, _ in curve], [y for _, y in curve]))


def _shares(keys: list[str], weights) -> dict[str, float]:
    """{key: share} rounded down to 4 decimals, so the shares never add up to more than 1."""
    out: dict[str, float] = {}
    for key, w in zip(keys, weights, strict=True):
        share = math.floor(w * 10_000) / 10_000
        if share > 0:
            out[key] = round(out.get(key, 0.0) + share, 4)
    return out


def _grade(score: float) -> str:
    return "A" if score >= 85 else "B" if score >= 70 else "C" if score >= 55 else "D" if score >= 40 else "F"


def generate(first: int, count: int, seed: int, now: datetime, prefix: str = "c") -> dict[str, list[tuple]]:
    """Rows of `count` creators numbered from `first`, per table; deterministic for (seed, first)."""
    rng = np.random.default_rng([seed, first])
    rnd = random.Random(seed * 1_000_003 + first)
    niche_c, topic_c = centroids(seed)
    # -- numbers, vectorised ------------------------------------------------------------------
    u = rng.random(count)
    followers = 1000 * (1 - u) ** (-1 / 0.7)
    followers = np.where(followers > 5e6, 5e6 * (followers / 5e6) ** 0.5, followers).astype(np.int64)
    niche_p = np.array(NICHE_WEIGHTS, float) / sum(NICHE_WEIGHTS)
    niche = rng.choice(len(NICHES), count, p=niche_p)
    second = np.where(rng.random(count) < 0.33, rng.choice(len(NICHES), count, p=niche_p), -1)
    second = np.where(second == niche, -1, second)
    country_p = np.array([c[1] for c in COUNTRIES], float)
    country = rng.choice(len(COUNTRIES), count, p=country_p / country_p.sum())
    platform = rng.choice(len(PLATFORMS), count, p=np.array(PLATFORM_WEIGHTS) / sum(PLATFORM_WEIGHTS))
    n_accounts = rng.choice([1, 2, 3], count, p=[0.70, 0.22, 0.08])
    er_noise = rng.lognormal(0, 0.45, count)
    tier_mu = np.select([followers < 1e4, followers < 1e5, followers < 5e5, followers < 1e6], [0.05, 0.04, 0.03, 0.02], 0.015)
    g90 = rng.normal(tier_mu, 0.06)
    g90 = np.where(rng.random(count) < 0.03, rng.uniform(0.3, 1.0, count), g90)  # sudden jumps
    g90 = np.clip(g90, -0.5, 5)
    g30 = np.clip(g90 * rng.uniform(0.2, 0.5, count) + rng.normal(0, 0.01, count), -0.5, 5)
    topic = rng.integers(0, TOPICS_PER_NICHE, count)
    vec = topic_c[niche, topic] + 0.75 * _unit(rng.standard_normal((count, DIM)))
    vec += np.where(second[:, None] >= 0, 0.45 * niche_c[np.maximum(second, 0)], 0)
    vec = _unit(vec).astype(np.float32)
    audited = (rng.random(count) < 0.85).tolist()
    score = np.clip(rng.normal(72, 13, count) - 25 * (g90 > 0.3), 5, 99).tolist()
    # Dirichlet draws for every creator at once (normalised gammas).
    age_alpha = np.array([NICHES[k][4] for k in range(len(NICHES))])[niche] * 40
    age_w = rng.gamma(age_alpha)
    age_w = (age_w / age_w.sum(axis=1, keepdims=True)).tolist()
    near_w = rng.gamma(1.5, size=(count, 5))
    near_w = (near_w / near_w.sum(axis=1, keepdims=True)).tolist()
    interest_w = rng.gamma(np.array([6.0, 3.0, 1.0, 1.0]), size=(count, 4))
    interest_w = (interest_w / interest_w.sum(axis=1, keepdims=True)).tolist()
    ids = rng.bytes(16 * count * 10)
    followers, niche, second, country, platform, n_accounts = (
        a.tolist() for a in (followers, niche, second, country, platform, n_accounts))
    er_noise, g90, g30 = er_noise.tolist(), g90.tolist(), g30.tolist()
    next_id = 0

    def new_id() -> uuid.UUID:
        nonlocal next_id
        next_id += 1
        return uuid.UUID(bytes=ids[16 * (next_id - 1): 16 * next_id], version=4)

    creators, accounts, points, posts, sales = [], [], [], [], []
    for i in range(count):
        n = first + i
        cid = new_id()
        code, _, langs, cities, currency, filler = COUNTRIES[country[i]]
        languages = [langs[0]] + ([x for x in langs[1:] if rnd.random() < 0.3])
        nname, words, tags, female, ages = NICHES[niche[i]]
        niches = [nname] + ([NICHES[second[i]][0]] if second[i] >= 0 else [])
        words2 = NICHES[second[i]][1] if second[i] >= 0 else words
        handle = f"{prefix}{rnd.choice(ADJECTIVES)}{rnd.choice(words).replace('-', '')}{n}"
        # -- accounts: the primary one is the largest ---------------------------------------
        main_platform = PLATFORMS[platform[i]]
        plats = [main_platform] + rnd.sample([p for p in PLATFORMS if p != main_platform], n_accounts[i] - 1)
        sizes = [int(followers[i])] + [max(100, int(followers[i] * rnd.uniform(0.05, 0.8))) for _ in plats[1:]]
        acc_ids = [new_id() for _ in plats]
        ers = [_er(p, f) * er_noise[i] * rnd.uniform(0.8, 1.2) for p, f in zip(plats, sizes, strict=True)]
        ers[0] = _er(main_platform, sizes[0]) * er_noise[i]
        for k, (p, f, aid, er) in enumerate(zip(plats, sizes, acc_ids, ers, strict=True)):
            eng = f * er
            video = POST_TYPES[p][0] in VIDEO_TYPES
            accounts.append((
                aid, cid, p, handle, f"https://{p}.example/{handle}", f, int(rnd.lognormvariate(6.3, 0.9)),
                int(rnd.lognormvariate(5.5, 1.0)), eng * 0.93, eng * 0.07,
                f * rnd.uniform(0.2, 1.5) if video else None, er, ER_FORMULA, now, now, now,
            ))
            g_90, g_30 = (g90[i], g30[i]) if k == 0 else (g90[i] * 0.7, g30[i] * 0.7)
            series = [(90, f / (1 + g_90)), (60, (f / (1 + g_90) + f / (1 + g_30)) / 2), (30, f / (1 + g_30)), (0, f)]
            for days, value in series if k == 0 else series[2:]:
                points.append((aid, now - timedelta(days=days), int(value)))
        # -- posts of the primary account ----------------------------------------------------
        last = now - timedelta(days=rnd.expovariate(1 / 4) if rnd.random() > 0.1 else rnd.uniform(45, 400))
        at, captions = last, []
        eng = sizes[0] * ers[0]
        for k in range(rnd.randint(4, 6)):
            body = rnd.choices(words, k=4) + rnd.choices(words2, k=2) + rnd.choices(filler, k=3)
            tagset = rnd.choices(tags, k=2 + (rnd.random() < 0.5))
            mention = rnd.choice(BRANDS) if rnd.random() < 0.2 else None
            label = mention is not None and rnd.random() < 0.4
            disclosed = label and rnd.random() < 0.6
            caption = " ".join(body).capitalize()
            if mention:
                caption = ("#ad " if disclosed else "") + caption + f" with @{mention}"
            caption += " " + " ".join(f"#{t}" for t in tagset)
            hashtags = text.hashtags(caption)
            ptype = rnd.choice(POST_TYPES[main_platform])
            captions.append(caption)
            posts.append((
                new_id(), cid, acc_ids[0], main_platform, f"{n}-{k}", None, at, ptype,
                caption, hashtags, [mention] if mention else [], int(eng * 0.93 * rnd.lognormvariate(0, 0.35)),
                int(eng * 0.07 * rnd.lognormvariate(0, 0.5)),
                int(sizes[0] * rnd.lognormvariate(-0.5, 0.6)) if ptype in VIDEO_TYPES else None,
                label and not disclosed, text.is_sponsored(label and not disclosed, hashtags), now, now,
            ))
            at -= timedelta(days=rnd.uniform(1, 10))
        bio = " ".join([*rnd.choices(filler, k=2), *rnd.choices(words, k=4), *rnd.choices(words2, k=2)]).capitalize()
        bio += f" | {cities[0] if rnd.random() < 0.3 else rnd.choice(cities)} | " + " ".join(f"#{t}" for t in tags[:2])
        # -- audience -------------------------------------------------------------------------
        own = rnd.uniform(0.35, 0.85)
        near = NEIGHBOURS[code]
        countries = _shares([code, *near], [own, *((1 - own) * 0.9 * w for w in near_w[i])])
        age = _shares(AGE_BANDS, age_w[i])
        f_share = min(max(female + rnd.gauss(0, 0.08), 0.02), 0.97)
        genders = _shares(["female", "male", "other"], [f_share, 0.99 - f_share, 0.01])
        lang: dict[str, float] = {}
        for key, share in countries.items():
            lang[COUNTRY_LANGUAGE.get(key, "en")] = lang.get(COUNTRY_LANGUAGE.get(key, "en"), 0) + share
        others = [NICHES[rnd.randrange(len(NICHES))][0] for _ in range(2)]
        interests = _shares(niches + others, interest_w[i][: len(niches) + 2])
        # -- the rest of the person -----------------------------------------------------------------
        contactable = rnd.random() < 0.45 + 0.1 * math.log10(max(sizes[0], 1000) / 1000)
        prices = [
            {"platform": main_platform, "deliverable": d, "currency": currency,
             "amount": f"{max(25.0, sizes[0] / 1000 * per_k * rnd.lognormvariate(0, 0.3)):.2f}"}
            for d, per_k in DELIVERABLES[main_platform]
        ]
        audit = audited[i]
        s = round(score[i], 1)
        flags = (["follower_spike"] if g90[i] > 0.3 else []) + (["low_engagement"] if ers[0] < 0.005 else [])
        creators.append((
            cid, main_platform, handle, sizes[0], ers[0], g30[i], g90[i], sorted(set(plats)), sum(sizes),
            f"{rnd.choice(FIRST_NAMES)} {handle[len(prefix):len(prefix) + 1].upper()}.", bio, niches, languages,
            code, rnd.choice(cities), json.dumps({"email": f"{handle}@example.com"} if contactable else {}),
            contactable, json.dumps(prices), last, json.dumps(countries), json.dumps(age), json.dumps(genders),
            json.dumps(_shares(list(lang), list(lang.values()))), json.dumps(interests), now - timedelta(days=rnd.uniform(1, 60)),
            "bench-generator", uuid.uuid4() if audit else None, "completed" if audit else None, s if audit else None,
            _grade(s) if audit else None, min(max(s / 100 + rnd.gauss(0, 0.05), 0.1), 0.99) if audit else None,
            flags if audit else [], now - timedelta(days=rnd.uniform(0, 30)) if audit else None, 1 if audit else None,
            text.text_config_for(languages), vec[i],
            text.text_hash(text.embedding_text(bio, niches, captions)), False, now, now, now,
            text.captions_text(captions),
        ))
        if rnd.random() < 0.03:
            clicks = int(rnd.lognormvariate(7, 1.2))
            orders = int(clicks * rnd.uniform(0.005, 0.05))
            revenue = int(orders * rnd.lognormvariate(8.3, 0.4))
            sales.append((cid, currency, clicks, orders, revenue, revenue // 10, now))
    return {"creators": creators, "accounts": accounts, "follower_points": points, "posts": posts, "creator_sales": sales}


async def load(conn: asyncpg.Connection, rows: dict[str, list[tuple]]) -> None:
    """COPY one chunk in one transaction; the search document and the audience vector computed by
    the service's SQL."""
    await register_vector(conn)
    async with conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_stage (LIKE discovery.creators INCLUDING DEFAULTS, captions text)"
            " ON COMMIT DELETE ROWS"
        )
        await conn.copy_records_to_table("bench_stage", records=rows["creators"], columns=[*CREATOR_COLUMNS, "captions"])
        columns = ", ".join(CREATOR_COLUMNS)
        document = text.document_sql("text_config", "bio", "array_to_string(niches, ', ')", "captions")
        await conn.execute(f"INSERT INTO discovery.creators ({columns}, document, audience_vector)"
                           f" SELECT {columns}, {document}, {AUDIENCE_VECTOR_SQL} FROM bench_stage")
        for table, cols in (("accounts", ACCOUNT_COLUMNS), ("follower_points", POINT_COLUMNS),
                            ("posts", POST_COLUMNS), ("creator_sales", SALES_COLUMNS)):
            if rows[table]:
                await conn.copy_records_to_table(table, schema_name="discovery", records=rows[table], columns=cols)


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
