"""EXPLAIN ANALYZE of the typical search queries against a populated discovery schema: the plans
ADR 0021 records. Not a benchmark (bench/ has that): one run per query, plans printed.

    .venv/bin/python -m bench.search_plans postgresql://postgres@/scratch?host=/tmp/x&port=5432
"""

import asyncio
import sys
import time

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from services.discovery.search import repository
from services.discovery.search.filters import CreatorFilters, conditions
from shared.pagination import PageParams

FIRST_PAGE = PageParams(limit=20, cursor=None)
QUERIES = {
    "filters, -followers": ({"country": ["DE"], "tier": ["micro"], "contactable": True}, None, "-followers"),
    "broad filter, -followers": ({"platform": ["instagram"]}, None, "-followers"),
    "selective filters, -engagement": ({"country": ["SE"], "niche": ["vegan"], "language": ["en"]}, None, "-engagement"),
    "audience threshold + country": ({"audience_country": ["US:30"], "country": ["BR"]}, None, "-followers"),
    "audience age + gender": ({"audience_age": ["18-24:40"], "audience_gender": ["female:70"]}, None, "-followers"),
    "FTS + filters (en), relevance": ({"country": ["US"], "language": ["en"]}, "vegan baking", "relevance"),
    "FTS all languages + tier, relevance": ({"tier": ["mid"]}, "sourdough", "relevance"),
    "FTS rare word, -followers": ({}, "wedding", "-followers"),
    "FTS common word, relevance, no filters": ({}, "yoga", "relevance"),
}


def sql(statement) -> tuple[str, list]:
    """The statement as the service sends it: asyncpg's $n placeholders and their values."""
    compiled = statement.compile(dialect=asyncpg_dialect.dialect(), compile_kwargs={"render_postcompile": True})
    return compiled.string, [compiled.params[name] for name in compiled.positiontup]


async def tsquery(conn, q: str, languages: list[str] | None):
    """search.repository.tsquery through asyncpg: the distinct stemmings of `q`, OR-ed."""
    rows = await conn.fetch(
        "SELECT DISTINCT websearch_to_tsquery(CAST(c AS regconfig), $1)::text AS branch FROM unnest($2::text[]) AS c",
        q, repository.text_configs(languages),
    )
    return repository.tsquery_of(repository.or_branches(r["branch"] for r in rows))


async def main(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    for name, (filters, q, sort) in QUERIES.items():
        f = CreatorFilters(**filters)
        query = await tsquery(conn, q, f.language) if q else None
        # For relevance, the first candidate floor's statement (search.repository.CANDIDATE_FLOORS).
        floor = repository.CANDIDATE_FLOORS[0] if sort == "relevance" else None
        text, values = sql(repository.search_statement(conditions(f), query, sort, FIRST_PAGE, floor=floor))
        await conn.fetch(text, *values)  # warm
        times = []
        for _ in range(5):
            started = time.perf_counter()
            await conn.fetch(text, *values)
            times.append((time.perf_counter() - started) * 1000)
        plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + text, *values)
        print(f"=== {name}: best {min(times):.1f} ms, worst {max(times):.1f} ms of 5")
        print("\n".join(r[0] for r in plan))
    f = CreatorFilters(platform=["instagram"])
    text, values = sql(repository.facets_statement(conditions(f), None))
    started = time.perf_counter()
    await conn.fetch(text, *values)
    print(f"=== facets, broad: {(time.perf_counter() - started) * 1000:.1f} ms")
    await conn.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
