"""The one write path of the creator index, shared by POST, PATCH and the bulk NDJSON loader.

A batch of writes is applied set-based, in three steps the bulk loader can overlap across
chunks (docs/decisions/0058-bulk-ingest-read-ahead.md):

- `prepare` (database reads): the creators the batch touches are found, locked and loaded in a
  few statements, and each write is planned (`plan.py`);
- `finish` (Python only): every write is merged, its derived figures computed, and its rows and
  events built, the events of new creators serialised;
- `send` (database writes): each table written once per batch (binary COPY into a staging table,
  then one `INSERT ... SELECT ... ON CONFLICT` per table, the four in one round trip; a new
  creator's accounts, posts and points copied straight in; a batch of a few creators through
  executemany; the SQL is in `statements.py`), and the events of what really changed added to the
  outbox.

All in the caller's transaction. A write that changes nothing writes nothing and publishes nothing.
"""

import asyncio
import json
import uuid
from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator import metrics
from services.discovery.creator import text as creator_text
from services.discovery.creator.plan import Plan, WriteError, plan_write
from services.discovery.creator.statements import (
    ACCOUNT_COLUMNS,
    ACCOUNT_COLUMN_NAMES,
    CREATOR_COLUMNS,
    MERGE,
    POINT_COLUMN_NAMES,
    POST_COLUMNS,
    POST_COLUMN_NAMES,
    SMALL_BATCH,
    STAGE,
    STAGE_CREATOR_COLUMNS,
    WRITE_ACCOUNT,
    WRITE_CREATOR,
    WRITE_POINT,
    WRITE_POST,
)
from services.discovery.creator.schemas import CreatorCreate, CreatorUpdate
from services.discovery.db import SERVICE, outbox
from services.discovery.embedding.audience import audience_vector
from shared.contracts.envelope import envelope_of
from shared.messaging.outbox import Rendered
from shared.observability import current_correlation_id

TOPIC = "discovery.creator.v2"

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
        round_, pending, refused = _split(pending, found)
        for outcome in refused:
            outcomes[outcome.line] = outcome
        prepared = await _read_round(conn, round_, found)
        _finish_plans(prepared, prepared.plans)
        prepared.batch = _build([p for p in prepared.plans if p.status != "unchanged"])
        await send(session, conn, prepared)
        for outcome in prepared.outcomes:
            outcomes[outcome.line] = outcome
    return [outcomes[w.line] for w in writes]


@dataclass
class Prepared:
    """One round of writes read and planned, not yet written: `outcomes` holds the lines refused
    so far, and each plan's outcome once finished; `batch` the rows and events to send."""

    writes: list[Write]
    state: "State"
    plans: list[Plan]
    outcomes: list[Outcome]
    keys: set[tuple[str, str]]
    creator_ids: set[uuid.UUID]
    batch: "Batch | None" = None


async def prepare(conn, writes: list[Write], keep_clear_of: Prepared | None = None) -> Prepared | None:
    """Read and plan `writes` as one round, locking the stored creators they touch; None, with
    nothing locked, when they cannot be one round (two of them touch one creator) or touch a
    creator `keep_clear_of` (read, not yet written) is about to write. The caller then writes
    that first and applies these with `apply`. Reads made before `keep_clear_of` is written are
    still true after it: the two share no account key and no creator."""
    if keep_clear_of is not None and any(w.keys() & keep_clear_of.keys for w in writes):
        return None
    found = await _resolve(conn, writes)
    round_, deferred, refused = _split(writes, found)
    if deferred:
        return None
    ids = {cid for _, cid in round_ if cid is not None}
    if keep_clear_of is not None and ids & keep_clear_of.creator_ids:
        return None
    prepared = await _read_round(conn, round_, found)
    prepared.writes, prepared.outcomes = writes, refused + prepared.outcomes
    return prepared


async def finish(prepared: Prepared, step: int = 25) -> None:
    """Finish the plans (Python only, no database) and build the rows and events to send,
    letting the event loop run every `step` plans, so a write in flight is answered meanwhile."""
    for start in range(0, len(prepared.plans), step):
        _finish_plans(prepared, prepared.plans[start:start + step])
        await asyncio.sleep(0)
    prepared.batch = _build([p for p in prepared.plans if p.status != "unchanged"])


def _finish_plans(prepared: Prepared, plans: list[Plan]) -> None:
    for plan in plans:
        plan.finish(prepared.state)
        prepared.outcomes.append(Outcome(plan.line, plan.creator_id, plan.status))


def _split(pending: list[Write], found: dict) -> tuple[list, list[Write], list[Outcome]]:
    """The writes of this round (each with its creator), those that wait for a later one, and
    those refused."""
    taken_creators: set[uuid.UUID] = set()
    taken_keys: set[tuple[str, str]] = set()
    round_, deferred, refused = [], [], []
    for write in pending:
        keys = write.keys()
        try:
            creator_id = _creator_of(write, keys, found)
        except WriteError as error:
            refused.append(Outcome(write.line, error=error))
            continue
        if (creator_id is not None and creator_id in taken_creators) or keys & taken_keys:
            deferred.append(write)
            continue
        if creator_id is not None:
            taken_creators.add(creator_id)
        taken_keys |= keys
        round_.append((write, creator_id))
    return round_, deferred, refused


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


async def _read_round(conn, round_: list, found: dict) -> Prepared:
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
    keys = {k for write, _ in round_ for k in write.keys()}
    return Prepared([w for w, _ in round_], state, plans, outcomes, keys, set(existing_ids))


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


def _rows(plans: list[Plan]) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The account, post and follower-point rows `plans` write, in the tables' column order."""
    accounts = [tuple(a[k] for k in ACCOUNT_COLUMN_NAMES) for p in plans for a in p.account_rows]
    posts = [tuple(row[k] for k in POST_COLUMN_NAMES) for p in plans for row in p.post_rows]
    return accounts, posts, [pt for p in plans for pt in p.point_rows]


def _audience_vector(creator: dict) -> str | None:
    """The creator's audience vector as pgvector's text ('[0.1,...]'): computed here rather than
    by PostgreSQL (migration 0017), from the audience the row is written with."""
    vector = audience_vector(*(creator[f"audience_{k}"] for k in ("countries", "ages", "genders", "languages")))
    # Rounded to float4 here, as PostgreSQL's cast of the function's float8 array does, so that
    # pgvector's text parse cannot round a second time.
    return None if vector is None else "[" + ",".join(map(repr, array("f", vector))) + "]"


def _json(value) -> str | None:
    return None if value is None else json.dumps(value)


@dataclass
class Batch:
    """What a round writes: rows in the tables' column order, and the events of what changed."""

    plans: list[Plan]
    creators: list[tuple]
    new_rows: tuple[list[tuple], list[tuple], list[tuple]]  # accounts, posts, points of new creators
    stored_rows: tuple[list[tuple], list[tuple], list[tuple]]  # the same of stored creators
    events: Rendered


def _build(plans: list[Plan]) -> Batch:
    creators = []
    for p in plans:
        c = p.creator
        creators.append((
            c["id"], c["platform"], c["handle"], c["follower_count"], c["engagement_rate"], c["growth_30d"],
            c["growth_90d"], c["platforms"], c["followers_total"], c["display_name"], c["bio"], c["niches"],
            c["languages"], c["country"], c["city"], _json(c["contact"]), c["contactable"],
            _json(c["price_estimates"]), c["last_posted_at"], _json(c["audience_countries"]),
            _json(c["audience_ages"]), _json(c["audience_genders"]), _json(c["audience_languages"]),
            _json(c["audience_interests"]), c["audience_estimated_at"], c["audience_source"], _audience_vector(c),
            c["text_config"], ", ".join(c["niches"]), p.captions_text, c["embedding_stale"],
        ))
    # Serialised here, while the database writes the chunk ahead; numbered in `send` (a new
    # creator's events are its first, so only a stored creator's are serialised again there).
    events = outbox.render(TOPIC, [_envelope(name, p.creator_id, payload) for p in plans for name, payload in p.events],
                           new={str(p.creator_id) for p in plans if p.is_new})
    return Batch(plans, creators, _rows([p for p in plans if p.is_new]), _rows([p for p in plans if not p.is_new]), events)


async def send(session: AsyncSession, conn, prepared: Prepared) -> None:
    """Write a finished round: its rows, then its events to the outbox (database only)."""
    batch = prepared.batch
    if batch is None or not batch.plans:
        return
    plans, creators = batch.plans, batch.creators
    (new_accounts, new_posts, new_points), (accounts, posts, points) = batch.new_rows, batch.stored_rows
    if len(plans) < SMALL_BATCH:
        accounts, posts, points = new_accounts + accounts, new_posts + posts, new_points + points
        for statement, rows in ((WRITE_CREATOR, creators), (WRITE_ACCOUNT, accounts), (WRITE_POST, posts),
                                (WRITE_POINT, points)):
            if rows:
                await conn.executemany(statement, rows)
    else:
        # A new creator's accounts, posts and points cannot meet a stored row (its accounts are
        # new, so are their posts and points): they are copied straight into their tables after
        # the merge has written the creators they refer to. Should another request write one of
        # its accounts meanwhile, the unique key refuses the copy and the chunk is retried line
        # by line (bulk.py), as for any conflict. Rows of stored creators go through the merge.
        await conn.execute(STAGE)
        await conn.copy_records_to_table("ingest_creators", records=creators, columns=STAGE_CREATOR_COLUMNS)
        for table, rows, columns in (("ingest_accounts", accounts, ACCOUNT_COLUMN_NAMES), ("ingest_posts", posts, POST_COLUMN_NAMES),
                                     ("ingest_points", points, POINT_COLUMN_NAMES)):
            if rows:
                await conn.copy_records_to_table(table, records=rows, columns=columns)
        await conn.execute(MERGE)
        for table, rows, columns in (("accounts", new_accounts, ACCOUNT_COLUMN_NAMES), ("posts", new_posts, POST_COLUMN_NAMES),
                                     ("follower_points", new_points, POINT_COLUMN_NAMES)):
            if rows:
                await conn.copy_records_to_table(table, schema_name="discovery", records=rows, columns=columns)
    await outbox.add_rendered(session, batch.events)
