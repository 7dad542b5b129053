"""The queries of search and brand mentions over the creator index.

Every query is a keyset page (shared.pagination): ordered by (sort value, id), NULLs last,
starting strictly after the cursor's (value, id), fetching limit + 1 rows. Relevance is a sort
like the others: its value is `rank()`, computed from the creator's document and the query
alone, so it is as stable as a column (docs/decisions/0021-search-indexes.md).
"""

from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, Select, Text, func, literal, literal_column, select, tuple_, union_all

from services.discovery.creator import repository as creator_repository
from services.discovery.creator import text
from services.discovery.creator.models import Creator
from services.discovery.search.filters import CreatorFilters, conditions
from services.discovery.search.schemas import SUMMARY_COLUMNS
from shared.db import Reads
from shared.pagination import PageParams, Sorts, decode_cursor, encode_cursor

C = Creator
SORTS = Sorts(
    C.id,
    followers=C.follower_count,
    engagement=C.engagement_rate,
    authenticity=C.audit_score,
    growth_30d=C.growth_30d,
    growth_90d=C.growth_90d,
)
# ts_rank_cd's weights of D, C, B, A: bio (A) 1.0, niches (B) 0.4, captions (C) 0.2.
RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
# Facets count at most this many matches exactly; past it they count a sample (Facets.exact).
FACET_LIMIT = 10_000
TOP_FACET_VALUES = 20
TIERS = ("nano", "micro", "mid", "macro", "mega")
_SUMMARY = [getattr(C, name) for name in SUMMARY_COLUMNS]


def text_configs(languages: list[str] | None) -> list[str]:
    """The text search configurations a query is stemmed with: those of the `language` filter, or
    (without one) every configuration a document can have; `simple` (no stemming) always."""
    chosen = [text.text_config_for([language]) for language in languages] if languages else list(text.TEXT_CONFIGS.values())
    return list(dict.fromkeys([*chosen, text.DEFAULT_TEXT_CONFIG]))


def tsquery(q: str, languages: list[str] | None) -> ColumnElement:
    """websearch_to_tsquery(config, q) OR-ed over `text_configs`: a creator's document, stemmed
    in its own language, matches the query stemmed in the same one."""
    parts = [func.websearch_to_tsquery(literal_column(f"'{config}'::regconfig"), literal(q, Text)) for config in text_configs(languages)]
    query = parts[0]
    for part in parts[1:]:
        query = query.op("||")(part)
    return query


def rank(query: ColumnElement) -> ColumnElement:
    # float8, so that the cursor's JSON number compares equal to the value it was read from.
    return func.ts_rank_cd(literal_column(f"'{RANK_WEIGHTS}'::float4[]"), C.document, query).cast(Float)


# What shared.pagination.decode_cursor needs to know of the relevance sort.
RELEVANCE = SimpleNamespace(name="relevance", nullable=False, column=SimpleNamespace(type=Float()), tiebreaker=C.id)
# ... and of semantic search's: the offset of the next page, and the last creator shown.
SEMANTIC = SimpleNamespace(name="semantic", nullable=False, column=SimpleNamespace(type=Integer()), tiebreaker=C.id)


async def search(
    session: Reads, where: list[ColumnElement[bool]], query: ColumnElement | None, sort: str, page: PageParams
) -> list:
    """Up to page.limit + 1 creators (SUMMARY_COLUMNS + `score`) matching `where` (and `query`)."""
    return list((await session.execute(search_statement(where, query, sort, page))).all())


def search_statement(where: list[ColumnElement[bool]], query: ColumnElement | None, sort: str, page: PageParams) -> Select:
    """The SELECT of `search` (also what bench/ and EXPLAIN read)."""
    score = rank(query) if query is not None else literal(None, Float)
    statement: Select = select(*_SUMMARY, score.label("score")).where(*where)
    if query is not None:
        statement = statement.where(C.document.op("@@")(query))
    if sort == "relevance":
        statement = statement.order_by(score.desc(), C.id.desc()).limit(page.limit + 1)
        if page.cursor is not None:
            value, row_id = decode_cursor(page.cursor, RELEVANCE)
            statement = statement.where(tuple_(score, C.id) < tuple_(literal(value, Float), literal(row_id, C.id.type)))
    else:
        statement = SORTS.apply(statement, page, sort)
    return statement


def next_cursor(found: list, limit: int, sort: str) -> str | None:
    if len(found) <= limit:
        return None
    if sort != "relevance":
        return SORTS.next_cursor(found, limit, sort)
    last = found[limit - 1]
    return encode_cursor("relevance", last.score, last.id)


async def facets(session: Reads, where: list[ColumnElement[bool]], query: ColumnElement | None) -> dict[str, Any]:
    """Counts by tier, platform, country and language over the first FACET_LIMIT + 1 matches."""
    out: dict[str, Any] = {"tier": {}, "platform": {}, "country": {}, "language": {}}
    total = 0
    for facet, value, count in (await session.execute(facets_statement(where, query))).all():
        if facet == "total":
            total = count
        elif value is not None:
            out[facet][value] = count
    for facet in ("country", "language"):
        top = sorted(out[facet].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_FACET_VALUES]
        out[facet] = dict(top)
    out["tier"] = dict(sorted(out["tier"].items(), key=lambda kv: TIERS.index(kv[0])))
    out["platform"] = dict(sorted(out["platform"].items(), key=lambda kv: (-kv[1], kv[0])))
    return {"exact": total <= FACET_LIMIT, "counted": total, **out}


def facets_statement(where: list[ColumnElement[bool]], query: ColumnElement | None):
    """(facet, value, count) rows over the first FACET_LIMIT + 1 matches, and ('total', NULL, n)."""
    matches = select(C.tier, C.platforms, C.country, C.languages).where(*where)
    if query is not None:
        matches = matches.where(C.document.op("@@")(query))
    m = matches.limit(FACET_LIMIT + 1).cte("matches").prefix_with("MATERIALIZED")
    platform = select(func.unnest(m.c.platforms).label("value")).subquery("platform")
    language = select(func.unnest(m.c.languages).label("value")).subquery("language")
    counted = union_all(
        select(literal("total"), literal(None, Text), func.count()).select_from(m),
        select(literal("tier"), m.c.tier, func.count()).group_by(m.c.tier),
        select(literal("country"), m.c.country, func.count()).group_by(m.c.country),
        select(literal("platform"), platform.c.value, func.count()).group_by(platform.c.value),
        select(literal("language"), language.c.value, func.count()).group_by(language.c.value),
    )
    return counted


async def list_creators(session: Reads, page: PageParams, sort: str, filters: CreatorFilters) -> list:
    """GET /creators: up to page.limit + 1 `Creator` rows in the list's `sort` order, filtered."""
    statement = creator_repository.SORTS.apply(select(C).where(*conditions(filters)), page, sort)
    return list((await session.scalars(statement)).all())
