"""The one write path of the creator index, shared by POST, PATCH and the bulk NDJSON loader.

A batch of writes is applied set-based: the creators it touches are locked and loaded in a few
statements, every write is merged and its derived figures computed in Python (`plan.py`), and
each table is written once per batch (binary COPY into a staging table, then one
`INSERT ... SELECT ... ON CONFLICT` per table, the four in one round trip; a batch of a few
creators through executemany) in the caller's transaction, with the events of what really changed added to the outbox. A
write that changes nothing writes nothing and publishes nothing.
"""

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator import metrics
from services.discovery.creator import text as creator_text
from services.discovery.creator.plan import Plan, WriteError, plan_write
from services.discovery.creator.schemas import CreatorCreate, CreatorUpdate
from services.discovery.db import SERVICE, outbox
from shared.contracts.envelope import envelope_of
from shared.observability import current_correlation_id

TOPIC = "discovery.creator.v2"

CREATOR_COLUMNS = (
    "id, platform, handle, follower_count, engagement_rate, growth_30d, growth_90d, platforms, followers_total, "
    "display_name, bio, niches, languages, country, city, contact, contactable, price_estimates, last_posted_at, "
    "audience_countries, audience_ages, audience_genders, audience_languages, audience_interests, "
    "audience_estimated_at, audience_source, embedding_text_hash, embedding_stale"
)
ACCOUNT_COLUMNS = (
    "id, creator_id, platform, handle, url, followers, following, posts_count, avg_likes, avg_comments, avg_views, "
    "engagement_rate, engagement_formula, metrics_at"
)
POST_COLUMNS = (
    "id, creator_id, account_id, platform, external_id, url, posted_at, type, caption, hashtags, mentions, likes, "
    "comments, views, paid_partnership, sponsored"
)

# A write of a few creators (POST, PATCH, a line retried alone) takes these statements, one
# executemany each: fewer round trips than staging them.
SMALL_BATCH = 20
_WRITE_CREATOR = f"""
INSERT INTO discovery.creators (
    id, platform, handle, follower_count, engagement_rate, growth_30d, growth_90d, platforms, followers_total,
    display_name, bio, niches, languages, country, city, contact, contactable, price_estimates, last_posted_at,
    audience_countries, audience_ages, audience_genders, audience_languages, audience_interests,
    audience_estimated_at, audience_source, text_config, document, embedding_stale
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17, $18::jsonb, $19,
    $20::jsonb, $21::jsonb, $22::jsonb, $23::jsonb, $24::jsonb, $25, $26, $27::text,
    {creator_text.document_sql("$27::text", "$11::text", "$28::text", "$29::text")}, $30
)
ON CONFLICT (id) DO UPDATE SET
    platform = excluded.platform, handle = excluded.handle, follower_count = excluded.follower_count,
    engagement_rate = excluded.engagement_rate, growth_30d = excluded.growth_30d, growth_90d = excluded.growth_90d,
    platforms = excluded.platforms, followers_total = excluded.followers_total, display_name = excluded.display_name,
    bio = excluded.bio, niches = excluded.niches, languages = excluded.languages, country = excluded.country,
    city = excluded.city, contact = excluded.contact, contactable = excluded.contactable,
    price_estimates = excluded.price_estimates, last_posted_at = excluded.last_posted_at,
    audience_countries = excluded.audience_countries, audience_ages = excluded.audience_ages,
    audience_genders = excluded.audience_genders, audience_languages = excluded.audience_languages,
    audience_interests = excluded.audience_interests, audience_estimated_at = excluded.audience_estimated_at,
    audience_source = excluded.audience_source, text_config = excluded.text_config, document = excluded.document,
    embedding_stale = excluded.embedding_stale, updated_at = now()
"""
_WRITE_ACCOUNT = f"""
INSERT INTO discovery.accounts ({ACCOUNT_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO UPDATE SET
    handle = excluded.handle, url = excluded.url, followers = excluded.followers, following = excluded.following,
    posts_count = excluded.posts_count, avg_likes = excluded.avg_likes, avg_comments = excluded.avg_comments,
    avg_views = excluded.avg_views, engagement_rate = excluded.engagement_rate,
    engagement_formula = excluded.engagement_formula, metrics_at = excluded.metrics_at, updated_at = now()
"""
_WRITE_POST = f"""
INSERT INTO discovery.posts ({POST_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (account_id, external_id) DO UPDATE SET
    url = excluded.url, posted_at = excluded.posted_at, type = excluded.type, caption = excluded.caption,
    hashtags = excluded.hashtags, mentions = excluded.mentions, likes = excluded.likes,
    comments = excluded.comments, views = excluded.views, paid_partnership = excluded.paid_partnership,
    sponsored = excluded.sponsored, updated_at = now()
"""
_WRITE_POINT = """
INSERT INTO discovery.follower_points (account_id, observed_at, followers) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING
"""


# A batch's rows go through four temporary staging tables, one binary COPY each, then into the
# real tables with one set-based statement per table, the four sent in one round trip: far less
# work for PostgreSQL per row than a parameterised statement per row (executemany). ON COMMIT
# DELETE ROWS and emptied after every merge, so a staging table never carries rows from one
# batch, savepoint or request into another.
STAGE_CREATOR_COLUMNS = (
    "id", "platform", "handle", "follower_count", "engagement_rate", "growth_30d", "growth_90d", "platforms",
    "followers_total", "display_name", "bio", "niches", "languages", "country", "city", "contact", "contactable",
    "price_estimates", "last_posted_at", "audience_countries", "audience_ages", "audience_genders",
    "audience_languages", "audience_interests", "audience_estimated_at", "audience_source", "text_config",
    "niches_text", "captions", "embedding_stale",
)
_WRITTEN = ", ".join(c for c in STAGE_CREATOR_COLUMNS if c not in ("niches_text", "captions"))
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS ingest_creators (
    id uuid, platform text, handle text, follower_count bigint, engagement_rate float8, growth_30d float8,
    growth_90d float8, platforms text[], followers_total bigint, display_name text, bio text, niches text[],
    languages text[], country text, city text, contact jsonb, contactable boolean, price_estimates jsonb,
    last_posted_at timestamptz, audience_countries jsonb, audience_ages jsonb, audience_genders jsonb,
    audience_languages jsonb, audience_interests jsonb, audience_estimated_at timestamptz, audience_source text,
    text_config text, niches_text text, captions text, embedding_stale boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_accounts (
    id uuid, creator_id uuid, platform text, handle text, url text, followers bigint, following bigint,
    posts_count bigint, avg_likes float8, avg_comments float8, avg_views float8, engagement_rate float8,
    engagement_formula text, metrics_at timestamptz
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_posts (
    id uuid, creator_id uuid, account_id uuid, platform text, external_id text, url text, posted_at timestamptz,
    type text, caption text, hashtags text[], mentions text[], likes bigint, comments bigint, views bigint,
    paid_partnership boolean, sponsored boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_points (account_id uuid, observed_at timestamptz, followers bigint)
    ON COMMIT DELETE ROWS;
"""
# Creators first (accounts and posts refer to them), then accounts (posts and points refer to
# them). A batch holds each creator, account, post and point once, so ON CONFLICT meets each row
# at most once.
_MERGE = f"""
INSERT INTO discovery.creators ({_WRITTEN}, document)
SELECT {_WRITTEN}, {creator_text.document_sql("text_config", "bio", "niches_text", "captions")}
FROM ingest_creators
ON CONFLICT (id) DO UPDATE SET
    platform = excluded.platform, handle = excluded.handle, follower_count = excluded.follower_count,
    engagement_rate = excluded.engagement_rate, growth_30d = excluded.growth_30d, growth_90d = excluded.growth_90d,
    platforms = excluded.platforms, followers_total = excluded.followers_total, display_name = excluded.display_name,
    bio = excluded.bio, niches = excluded.niches, languages = excluded.languages, country = excluded.country,
    city = excluded.city, contact = excluded.contact, contactable = excluded.contactable,
    price_estimates = excluded.price_estimates, last_posted_at = excluded.last_posted_at,
    audience_countries = excluded.audience_countries, audience_ages = excluded.audience_ages,
    audience_genders = excluded.audience_genders, audience_languages = excluded.audience_languages,
    audience_interests = excluded.audience_interests, audience_estimated_at = excluded.audience_estimated_at,
    audience_source = excluded.audience_source, text_config = excluded.text_config, document = excluded.document,
    embedding_stale = excluded.embedding_stale, updated_at = now();
INSERT INTO discovery.accounts ({ACCOUNT_COLUMNS})
SELECT {ACCOUNT_COLUMNS} FROM ingest_accounts
ON CONFLICT (id) DO UPDATE SET
    handle = excluded.handle, url = excluded.url, followers = excluded.followers, following = excluded.following,
    posts_count = excluded.posts_count, avg_likes = excluded.avg_likes, avg_comments = excluded.avg_comments,
    avg_views = excluded.avg_views, engagement_rate = excluded.engagement_rate,
    engagement_formula = excluded.engagement_formula, metrics_at = excluded.metrics_at, updated_at = now();
INSERT INTO discovery.posts ({POST_COLUMNS})
SELECT {POST_COLUMNS} FROM ingest_posts
ON CONFLICT (account_id, external_id) DO UPDATE SET
    url = excluded.url, posted_at = excluded.posted_at, type = excluded.type, caption = excluded.caption,
    hashtags = excluded.hashtags, mentions = excluded.mentions, likes = excluded.likes,
    comments = excluded.comments, views = excluded.views, paid_partnership = excluded.paid_partnership,
    sponsored = excluded.sponsored, updated_at = now();
INSERT INTO discovery.follower_points (account_id, observed_at, followers)
SELECT account_id, observed_at, followers FROM ingest_points
ON CONFLICT DO NOTHING;
DELETE FROM ingest_creators; DELETE FROM ingest_accounts; DELETE FROM ingest_posts; DELETE FROM ingest_points;
"""


@dataclass
class Write:
    """One creator write: a POST body, a PATCH body (`target`), or a bulk line (`upsert`)."""

    line: int
    data: CreatorCreate | CreatorUpdate
    target: uuid.UUID | None = None
    upsert: bool = False

    def keys(self) -> set[tuple[str, str]]:
        accounts = self.data.all_accounts() if isinstance(self.data, CreatorCreate) else (self.data.accounts or [])
        keys = {(str(a.platform), a.handle) for a in accounts}
        if isinstance(self.data, CreatorUpdate) and self.data.handle is not None:
            keys.add(("*rename*", self.data.handle))
        return keys


@dataclass
class Outcome:
    line: int
    creator_id: uuid.UUID | None = None
    status: str = "failed"  # created, updated, unchanged, failed
    error: WriteError | None = None


async def driver_connection(session: AsyncSession):
    """The asyncpg connection under `session`, inside the session's transaction."""
    connection = await session.connection()
    await connection.execute(sql("SELECT 1"))  # the adapter opens the transaction on first use
    return (await connection.get_raw_connection()).driver_connection


async def apply(session: AsyncSession, writes: list[Write]) -> list[Outcome]:
    """Apply `writes` in order; a write that names a creator an earlier one in the list also
    touches waits for a later round, so each round locks and writes every creator once."""
    conn = await driver_connection(session)
    outcomes: dict[int, Outcome] = {}
    pending = list(writes)
    while pending:
        found = await _resolve(conn, pending)
        taken_creators: set[uuid.UUID] = set()
        taken_keys: set[tuple[str, str]] = set()
        round_, deferred = [], []
        for write in pending:
            keys = write.keys()
            try:
                creator_id = _creator_of(write, keys, found)
            except WriteError as error:
                outcomes[write.line] = Outcome(write.line, error=error)
                continue
            if (creator_id is not None and creator_id in taken_creators) or keys & taken_keys:
                deferred.append(write)
                continue
            if creator_id is not None:
                taken_creators.add(creator_id)
            taken_keys |= keys
            round_.append((write, creator_id))
        for outcome in await _apply_round(session, conn, round_, found):
            outcomes[outcome.line] = outcome
        pending = deferred
    return [outcomes[w.line] for w in writes]


async def _resolve(conn, writes: list[Write]) -> dict[tuple[str, str], uuid.UUID]:
    keys = {k for w in writes for k in w.keys() if k[0] != "*rename*"}
    renames = {k[1] for w in writes for k in w.keys() if k[0] == "*rename*"}
    if not keys and not renames:
        return {}
    platforms, handles = zip(*keys) if keys else ((), ())
    found = await conn.fetch(
        "SELECT a.platform, a.handle, a.creator_id FROM discovery.accounts a"
        " JOIN unnest($1::text[], $2::text[]) k(platform, handle) ON a.platform = k.platform AND a.handle = k.handle",
        list(platforms), list(handles),
    )
    result = {(r["platform"], r["handle"]): r["creator_id"] for r in found}
    if renames:
        for r in await conn.fetch(
            "SELECT platform, handle, creator_id FROM discovery.accounts WHERE handle = ANY($1::text[])", list(renames)
        ):
            result[(r["platform"], r["handle"])] = r["creator_id"]
    return result


def _creator_of(write: Write, keys: set, found: dict) -> uuid.UUID | None:
    owners = {found[k] for k in keys if k in found}
    if write.target is not None:
        others = owners - {write.target}
        if others:
            for i, account in enumerate(write.data.accounts or []):
                if found.get((str(account.platform), account.handle), write.target) != write.target:
                    raise WriteError(f"accounts.{i}.handle", f"{account.platform} @{account.handle} belongs to another creator", 409)
        return write.target
    if not owners:
        return None
    if not write.upsert:
        account = write.data.all_accounts()[0]
        field_name = "handle" if write.data.accounts is None else "accounts"
        raise WriteError(field_name, f"{account.platform} creator @{account.handle} already exists", 409)
    if len(owners) > 1:
        raise WriteError("accounts", "the accounts belong to different existing creators", 409)
    return owners.pop()


async def _apply_round(session: AsyncSession, conn, round_: list, found: dict) -> list[Outcome]:
    existing_ids = sorted({cid for _, cid in round_ if cid is not None})
    state = await _load(conn, existing_ids)
    outcomes, plans = [], []
    for write, creator_id in round_:
        if creator_id is not None and creator_id not in state.creators:
            outcomes.append(Outcome(write.line, error=WriteError("", f"creator {creator_id} does not exist", 404)))
            continue
        try:
            plan = plan_write(write, creator_id, state, found)
        except WriteError as error:
            outcomes.append(Outcome(write.line, error=error))
            continue
        plans.append(plan)
    # Second read, now that every write knows its accounts: the stored posts and points it touches.
    await _load_details(conn, state, plans)
    for plan in plans:
        plan.finish(state)
        outcomes.append(Outcome(plan.line, plan.creator_id, plan.status))
    await _write(session, conn, [p for p in plans if p.status != "unchanged"])
    return outcomes


@dataclass
class State:
    creators: dict[uuid.UUID, dict] = field(default_factory=dict)
    accounts: dict[uuid.UUID, list[dict]] = field(default_factory=lambda: defaultdict(list))
    recent_posts: dict[uuid.UUID, list[dict]] = field(default_factory=lambda: defaultdict(list))
    posts_by_key: dict[tuple[uuid.UUID, str], dict] = field(default_factory=dict)
    points: dict[uuid.UUID, dict[datetime, int]] = field(default_factory=lambda: defaultdict(dict))
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


async def _load(conn, creator_ids: list[uuid.UUID]) -> State:
    state = State()
    if not creator_ids:
        return state
    rows = await conn.fetch(
        f"SELECT {CREATOR_COLUMNS} FROM discovery.creators WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
        creator_ids,
    )
    state.creators = {r["id"]: dict(r) for r in rows}
    for r in await conn.fetch(
        f"SELECT {ACCOUNT_COLUMNS} FROM discovery.accounts WHERE creator_id = ANY($1::uuid[]) ORDER BY created_at, id",
        creator_ids,
    ):
        state.accounts[r["creator_id"]].append(dict(r))
    for r in await conn.fetch(
        f"SELECT p.* FROM discovery.accounts a CROSS JOIN LATERAL (SELECT {POST_COLUMNS} FROM discovery.posts p"
        f" WHERE p.account_id = a.id ORDER BY p.posted_at DESC, p.id LIMIT {creator_text.RECENT_CAPTIONS}) p"
        " WHERE a.creator_id = ANY($1::uuid[])",
        creator_ids,
    ):
        post = dict(r)
        state.recent_posts[r["creator_id"]].append(post)
        state.posts_by_key[(r["account_id"], r["external_id"])] = post
    return state


async def _load_details(conn, state: State, plans: list[Plan]) -> None:
    post_keys = [k for p in plans for k in p.stored_post_keys() if k not in state.posts_by_key]
    if post_keys:
        accounts, externals = zip(*post_keys)
        for r in await conn.fetch(
            f"SELECT {', '.join('p.' + c for c in POST_COLUMNS.split(', '))} FROM discovery.posts p"
            " JOIN unnest($1::uuid[], $2::text[]) k(a, e) ON p.account_id = k.a AND p.external_id = k.e",
            list(accounts), list(externals),
        ):
            state.posts_by_key[(r["account_id"], r["external_id"])] = dict(r)
    series = {a: t for p in plans for a, t in p.series_wanted().items()}
    if series:
        ids, latest = zip(*series.items())
        for r in await conn.fetch(
            "SELECT f.account_id, f.observed_at, f.followers FROM unnest($1::uuid[], $2::timestamptz[]) k(id, latest)"
            " CROSS JOIN LATERAL (SELECT max(observed_at) AS m FROM discovery.follower_points WHERE account_id = k.id) l"
            " JOIN discovery.follower_points f ON f.account_id = k.id"
            " AND f.observed_at >= greatest(l.m, k.latest) - $3::interval",
            list(ids), list(latest), metrics.GROWTH_LOOKBACK,
        ):
            state.points[r["account_id"]][r["observed_at"]] = r["followers"]
    point_keys = [k for p in plans for k in p.new_point_keys() if k[1] not in state.points.get(k[0], {})]
    if point_keys:
        ids, times = zip(*point_keys)
        for r in await conn.fetch(
            "SELECT f.account_id, f.observed_at, f.followers FROM discovery.follower_points f"
            " JOIN unnest($1::uuid[], $2::timestamptz[]) k(a, t) ON f.account_id = k.a AND f.observed_at = k.t",
            list(ids), list(times),
        ):
            state.points[r["account_id"]][r["observed_at"]] = r["followers"]


def _envelope(event_type: str, creator_id: uuid.UUID, payload):
    """`new_envelope` without validation (the payloads are built here from validated rows)."""
    return envelope_of(type(payload)).model_construct(
        event_id=uuid.uuid4(), event_type=event_type, schema_version=1, occurred_at=datetime.now(UTC),
        producer=SERVICE, tenant_id=None, aggregate_id=str(creator_id), correlation_id=current_correlation_id(),
        payload=payload,
    )


def _json(value) -> str | None:
    return None if value is None else json.dumps(value)


async def _write(session: AsyncSession, conn, plans: list[Plan]) -> None:
    if not plans:
        return
    creators = []
    for p in plans:
        c = p.creator
        creators.append((
            c["id"], c["platform"], c["handle"], c["follower_count"], c["engagement_rate"], c["growth_30d"],
            c["growth_90d"], c["platforms"], c["followers_total"], c["display_name"], c["bio"], c["niches"],
            c["languages"], c["country"], c["city"], _json(c["contact"]), c["contactable"],
            _json(c["price_estimates"]), c["last_posted_at"], _json(c["audience_countries"]),
            _json(c["audience_ages"]), _json(c["audience_genders"]), _json(c["audience_languages"]),
            _json(c["audience_interests"]), c["audience_estimated_at"], c["audience_source"], c["text_config"],
            ", ".join(c["niches"]), p.captions_text, c["embedding_stale"],
        ))
    account_columns, post_columns = ACCOUNT_COLUMNS.split(", "), POST_COLUMNS.split(", ")
    accounts = [tuple(a[k] for k in account_columns) for p in plans for a in p.account_rows]
    posts = [tuple(row[k] for k in post_columns) for p in plans for row in p.post_rows]
    points = [pt for p in plans for pt in p.point_rows]
    if len(plans) < SMALL_BATCH:
        for statement, rows in ((_WRITE_CREATOR, creators), (_WRITE_ACCOUNT, accounts), (_WRITE_POST, posts),
                                (_WRITE_POINT, points)):
            if rows:
                await conn.executemany(statement, rows)
    else:
        await conn.execute(_STAGE)
        await conn.copy_records_to_table("ingest_creators", records=creators, columns=STAGE_CREATOR_COLUMNS)
        for table, rows, columns in (("ingest_accounts", accounts, account_columns), ("ingest_posts", posts, post_columns),
                                     ("ingest_points", points, ("account_id", "observed_at", "followers"))):
            if rows:
                await conn.copy_records_to_table(table, records=rows, columns=columns)
        await conn.execute(_MERGE)
    events = [_envelope(name, p.creator_id, payload) for p in plans for name, payload in p.events]
    await outbox.add_all(session, TOPIC, events)
