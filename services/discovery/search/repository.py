"""The queries of search and brand mentions over the creator index.

Every query is a keyset page (shared.pagination): ordered by (sort value, id), NULLs last,
starting strictly after the cursor's (value, id), fetching limit + 1 rows. Relevance is a sort
like the others: its value is `rank()`, computed from the creator's document and the query
alone, so it is as stable as a column (docs/decisions/0021-search-indexes.md).
"""

import json
import re
import time
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, Select, Text, cast, func, literal, literal_column, select, tuple_, union_all
from sqlalchemy import text as text_clause
from sqlalchemy.dialects.postgresql import TSQUERY

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
# Relevance ranks at most this many matches of a query: the most followed ones. Fewer matches are
# all ranked: the order is exact. More are a broad query ("travel"), where ranking every match
# cost seconds at 1M creators (docs/decisions/0025-search-at-a-million.md).
RANKED_MATCHES = 200
# The most followed matches are looked for among the creators with at least this many followers
# first, then the next floor down, until RANKED_MATCHES are found (None: every creator, those
# without a follower count last). Each floor has a partial GIN index of its own (migration 0014):
# a broad query finds its candidates among the 4 % biggest creators and reads no further, a
# narrow one goes down the floors. Whatever the floor it stops at, the candidates are the
# RANKED_MATCHES most followed matches. (The planner underestimates how many documents a query of
# several words matches, tenfold and more, so it would not AND a follower range into the plan
# itself: it read every match.)
CANDIDATE_FLOORS = (100_000, 10_000, None)
# A floor that held `c` matches predicts about (c + 1) x (creators above the next floor / creators
# above this one) at the next: a floor predicted to hold fewer than RANKED_MATCHES is not asked,
# the search goes straight to the one below it (at 1M creators a failed floor cost 20-25 ms). The
# prediction only saves or spends time: whichever floor answers, the candidates are the same
# RANKED_MATCHES most followed matches, and the last floor (every creator) is always asked. The
# creator counts are the planner's estimates (from ANALYZE's statistics), read at most every
# FLOOR_ESTIMATES_SECONDS per process.
FLOOR_ESTIMATES_SECONDS = 300.0
_FLOOR_ESTIMATES: dict[int | None, float] = {}
_FLOOR_ESTIMATED_AT = [float("-inf")]
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


# The tsquery of a request: websearch_to_tsquery(config, q) in each configuration of
# `text_configs`, its distinct branches OR-ed. Without a language filter that is 29
# configurations, most of which stem a query to the same lexemes; asking PostgreSQL once for the
# distinct stemmings leaves a query of a few branches instead of 29, which the GIN index looks up,
# the planner estimates and ts_rank_cd scores several times faster (the rank is the same:
# ts_rank_cd ignores repeated query items). The answer depends only on (q, configurations) and
# the server's dictionaries, so it is cached per process.
STEMMINGS_SQL = text_clause(
    "SELECT DISTINCT websearch_to_tsquery(CAST(c AS regconfig), :q)::text AS branch"
    " FROM unnest(CAST(:configs AS text[])) AS c"
).columns(branch=Text)
_STEMMINGS: dict[tuple[str, tuple[str, ...]], str] = {}
STEMMINGS_CACHED = 4096


def or_branches(branches) -> str:
    """The tsquery text that matches any of `branches` (tsquery texts; empty ones, a query of
    stop words only in that language, match nothing and are left out). Sorted: one text per set."""
    found = sorted({b for b in branches if b})
    return " | ".join(f"( {b} )" for b in found) if len(found) > 1 else "".join(found)


# websearch_to_tsquery's words and quoted phrases; one written with a leading "-" is excluded.
_QUERY_TOKENS = re.compile(r'-?"[^"]*"?|\S+')


def split_exclusions(q: str) -> tuple[str, list[str]]:
    """(the query without its excluded words, the excluded words and phrases without their "-").
    An `or` with no word on one side of it is left out: websearch_to_tsquery reads it as the word
    "or", which English drops as a stop word but German, say, keeps as a word every document must
    hold, so "vegan or" found no German creator at all."""
    kept, excluded = [], []
    for token in _QUERY_TOKENS.findall(q):
        if token.startswith("-") and len(token) > 1:
            excluded.append(token[1:])
        elif token.lower() == "or" and (not kept or kept[-1].lower() == "or"):
            continue
        else:
            kept.append(token)
    while kept and kept[-1].lower() == "or":
        kept.pop()
    return " ".join(kept), excluded


async def _stemmed(session: Reads, q: str, configs: tuple[str, ...]) -> str:
    """`q` stemmed in each of `configs`, the branches ORed (cached)."""
    key = (q, configs)
    found = _STEMMINGS.get(key)
    if found is None:
        rows = await session.execute(STEMMINGS_SQL, {"q": q, "configs": list(configs)})
        found = or_branches(row.branch for row in rows)
        if len(_STEMMINGS) >= STEMMINGS_CACHED:
            _STEMMINGS.pop(next(iter(_STEMMINGS)))
        _STEMMINGS[key] = found
    return found


async def tsquery(session: Reads, q: str, languages: list[str] | None) -> ColumnElement:
    """The query `q` as a tsquery over every configuration of `text_configs`: a creator's
    document, stemmed in its own language, matches the query stemmed in the same one. A word
    excluded with "-" is excluded in every stemming: left inside each branch, the `simple`
    branch's "not baking" was true of an English document holding "bake", so the OR of the
    branches let it through."""
    configs = tuple(text_configs(languages))
    wanted, excluded = split_exclusions(q)
    found = await _stemmed(session, wanted, configs) if wanted.strip() else ""
    nots = sorted({n for n in [await _stemmed(session, word, configs) for word in excluded] if n})
    if nots:
        found = " & ".join([*([f"( {found} )"] if found else []), *(f"!( {n} )" for n in nots)])
    return tsquery_of(found)


def tsquery_of(query: str) -> ColumnElement:
    """A tsquery text (already stemmed, as `tsquery` makes it) as a tsquery value."""
    return cast(literal(query, Text), TSQUERY)


def rank(document, query: ColumnElement) -> ColumnElement:
    # float8, so that the cursor's JSON number compares equal to the value it was read from.
    return func.ts_rank_cd(literal_column(f"'{RANK_WEIGHTS}'::float4[]"), document, query).cast(Float)


# What shared.pagination.decode_cursor needs to know of the relevance sort.
RELEVANCE = SimpleNamespace(name="relevance", nullable=False, column=SimpleNamespace(type=Float()), tiebreaker=C.id)
# ... and of semantic search's: the offset of the next page, and the last creator shown.
SEMANTIC = SimpleNamespace(name="semantic", nullable=False, column=SimpleNamespace(type=Integer()), tiebreaker=C.id)


async def search(
    session: Reads,
    where: list[ColumnElement[bool]],
    query: ColumnElement | None,
    sort: str,
    page: PageParams,
    ceiling: int | None = None,
) -> list:
    """Up to page.limit + 1 creators (SUMMARY_COLUMNS + `score`) matching `where` (and `query`).
    `ceiling` (filters.follower_ceiling): no creator of `where` has that many followers, so the
    relevance floors at or above it hold nothing and are not asked."""
    if sort != "relevance":
        return list((await session.execute(search_statement(where, query, sort, page))).all())
    found: list = []
    floors = [f for f in CANDIDATE_FLOORS if f is None or ceiling is None or f < ceiling]
    estimates = await floor_estimates(session) if len(floors) > 2 else {}
    while floors:
        floor = floors.pop(0)
        found = list((await session.execute(search_statement(where, query, sort, page, floor=floor))).all())
        # `candidates` (on every row) is how many matches the floor held, at most RANKED_MATCHES.
        # An empty page says nothing, unless it is the first (no cursor): no match at all. Going
        # down a floor is always right: once a floor holds RANKED_MATCHES, every lower one holds
        # the same most followed ones.
        if found and found[0].candidates >= RANKED_MATCHES:
            return found
        held = found[0].candidates if found else (0 if page.cursor is None else None)
        if held is not None:
            floors = floors_worth_asking(floor, held, floors, estimates)
    return found


def floors_worth_asking(
    floor: int | None, held: int, lower: list[int | None], estimates: dict[int | None, float]
) -> list[int | None]:
    """The floors of `lower` still worth asking after `floor` held `held` (< RANKED_MATCHES)
    matches: those predicted to hold RANKED_MATCHES, and the last one always. Without estimates
    every floor is asked."""
    above = estimates.get(floor)
    if not above or above <= 0:
        return lower
    return [f for i, f in enumerate(lower)
            if i == len(lower) - 1 or (held + 1) * estimates.get(f, float("inf")) / above >= RANKED_MATCHES]


async def floor_estimates(session: Reads) -> dict[int | None, float]:
    """The planner's estimate of how many creators each floor of CANDIDATE_FLOORS holds (None:
    all of them), cached per process for FLOOR_ESTIMATES_SECONDS; {} if it cannot be read."""
    now = time.monotonic()
    if now - _FLOOR_ESTIMATED_AT[0] < FLOOR_ESTIMATES_SECONDS:
        return _FLOOR_ESTIMATES
    estimates: dict[int | None, float] = {}
    for floor in CANDIDATE_FLOORS:
        where = "" if floor is None else f" WHERE follower_count >= {int(floor)}"
        explain = text_clause(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {C.__table__.fullname}{where}").columns(plan=Text)
        plan = (await session.execute(explain)).scalar()
        try:
            estimates[floor] = float((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])
        except (TypeError, ValueError, KeyError, IndexError):  # a plan of another shape: ask every floor
            return {}
    _FLOOR_ESTIMATES.clear()
    _FLOOR_ESTIMATES.update(estimates)
    _FLOOR_ESTIMATED_AT[0] = now
    return _FLOOR_ESTIMATES


def search_statement(
    where: list[ColumnElement[bool]], query: ColumnElement | None, sort: str, page: PageParams, floor: int | None = None
) -> Select:
    """The SELECT of `search` (also what bench/ and EXPLAIN read); for `relevance`, that of one
    candidate floor (`CANDIDATE_FLOORS`), with each row's `candidates`.

    With a query, the matches are selected first (an inner query, with the document) and ranked
    in the outer one, so that ts_rank_cd runs on the rows of the page (or, for `relevance`, on
    the RANKED_MATCHES candidates), never on every match before a sort."""
    if query is None:
        return SORTS.apply(select(*_SUMMARY, literal(None, Float).label("score")).where(*where), page, sort)
    matches = select(*_SUMMARY, C.document).where(*where, C.document.op("@@")(query))
    if sort != "relevance":
        inner = SORTS.apply(matches, page, sort).subquery("matches")
        score = rank(inner.c.document, query)
        chosen = SORTS.by_name[sort]
        column, tiebreaker = inner.c[chosen.column.key], inner.c.id
        if not chosen.descending:
            order = [column.asc(), tiebreaker.asc()]
        elif chosen.nullable:
            order = [column.desc().nulls_last(), tiebreaker.desc()]
        else:
            order = [column.desc(), tiebreaker.desc()]
        return select(*[inner.c[name] for name in SUMMARY_COLUMNS], score.label("score")).order_by(*order)
    # Relevance: the RANKED_MATCHES most followed matches (above `floor`), ranked.
    if floor is not None:
        # Written out, not a parameter: the planner must see it to use the partial index.
        matches = matches.where(C.follower_count >= literal_column(str(int(floor))))
    inner = (
        matches.order_by(C.follower_count.desc().nulls_last(), C.id.desc())
        .limit(RANKED_MATCHES)
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    score = rank(inner.c.document, query)
    candidates = select(func.count()).select_from(inner).scalar_subquery()
    statement = (
        select(*[inner.c[name] for name in SUMMARY_COLUMNS], score.label("score"), candidates.label("candidates"))
        .order_by(score.desc(), inner.c.id.desc())
        .limit(page.limit + 1)
    )
    if page.cursor is not None:
        value, row_id = decode_cursor(page.cursor, RELEVANCE)
        statement = statement.where(tuple_(score, inner.c.id) < tuple_(literal(value, Float), literal(row_id, C.id.type)))
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
