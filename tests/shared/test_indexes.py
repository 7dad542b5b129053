"""Every query shape the API runs on a growing table is served by an index: the plan of the
statement the repository actually sends uses the expected index, and the keyset order comes
from the index, not from a sort. Sequential and bitmap scans (which cannot return rows in
index order) and explicit sorts are switched off for the EXPLAIN: on a nearly empty test table they would win,
and the question asked here is which index can serve the query as the table grows."""

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from services.audit.audit import repository as audits
from services.discovery.creator import repository as creators
from shared.contracts.types import Platform
from shared.pagination import PageParams, encode_cursor

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CURSOR = encode_cursor("created_at", datetime(2026, 1, 1, tzinfo=UTC), uuid.uuid4())


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _plan(platform, service: str, query: Callable[[AsyncSession], Awaitable[object]]) -> list[dict]:
    """The plan nodes of the last statement `query` sends, explained with its own parameters."""
    engine = create_async_engine(platform.service_env(service)["DATABASE_URL"])
    sent = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: sent.append((args[2], args[3])))
    try:
        async with AsyncSession(engine) as session, session.begin():
            await query(session)
            statement, parameters = sent[-1]
            connection = await session.connection()
            await connection.exec_driver_sql("set local enable_seqscan = off")
            await connection.exec_driver_sql("set local enable_bitmapscan = off")
            # And sorts: on a nearly empty table a full index scan plus a sort costs about the
            # same as the right index, and the planner may take either.
            await connection.exec_driver_sql("set local enable_sort = off")
            result = await connection.exec_driver_sql(f"explain (format json) {statement}", parameters)
            plan = result.scalar_one()
    finally:
        await engine.dispose()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return list(_nodes(plan[0]["Plan"]))


def _assert_served_by(nodes: list[dict], index: str) -> None:
    used = [n.get("Index Name") for n in nodes if "Index Name" in n]
    assert index in used, f"expected {index}, plan used {used}: {[n['Node Type'] for n in nodes]}"
    assert not [n for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")], "order not from the index"


@pytest.mark.parametrize("after", [None, CURSOR], ids=["first_page", "next_page"])
async def test_creator_list_reads_the_keyset_index(platform, after):
    nodes = await _plan(platform, "discovery", lambda s: creators.list_page(s, PageParams(limit=10, cursor=after)))
    _assert_served_by(nodes, "ix_discovery_creators_created_at_id")


_SORT_INDEXES = {
    "-created_at": "ix_discovery_creators_created_at_id",
    "follower_count": "ix_discovery_creators_follower_count_id",
    "-follower_count": "ix_discovery_creators_follower_count_desc_id",
    "audit_score": "ix_discovery_creators_audit_score_id",
    "-audit_score": "ix_discovery_creators_audit_score_desc_id",
}
_LAST_VALUES = {"created_at": datetime(2026, 1, 1, tzinfo=UTC), "follower_count": 1000, "audit_score": 50.0}
_SORT_PAGES = (
    [(sort, "first_page") for sort in _SORT_INDEXES]
    + [(sort, "next_page") for sort in _SORT_INDEXES]
    # A page that starts among the creators without a value (they come last either way).
    + [(sort, "null_tail") for sort in _SORT_INDEXES if sort.lstrip("-") != "created_at"]
)


@pytest.mark.parametrize(("sort", "page"), _SORT_PAGES)
async def test_every_creator_sort_reads_its_index(platform, sort, page):
    value = None if page == "null_tail" else _LAST_VALUES[sort.lstrip("-")]
    cursor = None if page == "first_page" else encode_cursor(sort, value, uuid.uuid4())
    nodes = await _plan(
        platform, "discovery", lambda s: creators.list_page(s, PageParams(limit=10, cursor=cursor), sort=sort)
    )
    _assert_served_by(nodes, _SORT_INDEXES[sort])


async def _rarest_platform(platform) -> str:
    """The platform with the fewest creators so far. The index is for a selective filter: when one
    platform holds nearly every row (the suite makes mostly tiktok creators), walking the
    created_at index and filtering costs the same as the platform index, and the planner may
    take either."""
    engine = create_async_engine(platform.service_env("discovery")["DATABASE_URL"])
    try:
        async with engine.connect() as connection:
            counts = dict((await connection.exec_driver_sql(
                "select platform, count(*) from discovery.creators group by platform"
            )).all())
    finally:
        await engine.dispose()
    return min(Platform, key=lambda p: counts.get(p.value, 0)).value


@pytest.mark.parametrize("after", [None, CURSOR], ids=["first_page", "next_page"])
async def test_creator_list_by_platform_reads_the_platform_keyset_index(platform, after):
    rare = await _rarest_platform(platform)
    nodes = await _plan(
        platform, "discovery", lambda s: creators.list_page(s, PageParams(limit=10, cursor=after), platform=rare)
    )
    _assert_served_by(nodes, "ix_discovery_creators_platform_created_at_id")


async def test_audit_list_reads_the_keyset_index(platform):
    nodes = await _plan(platform, "audit", lambda s: audits.list_page(s, PageParams(limit=10, cursor=CURSOR)))
    _assert_served_by(nodes, "ix_audit_audits_created_at_id")


async def test_audit_list_by_status_reads_the_status_keyset_index(platform):
    # A rare status: for the common one ("completed", once the runner has run the suite's audits)
    # walking the created_at index and filtering is the cheaper plan, and the planner knows it.
    nodes = await _plan(
        platform, "audit", lambda s: audits.list_page(s, PageParams(limit=10, cursor=CURSOR), status="failed")
    )
    _assert_served_by(nodes, "ix_audit_audits_status_created_at_id")


async def test_audit_list_by_creator_reads_the_creator_keyset_index(platform):
    nodes = await _plan(
        platform, "audit", lambda s: audits.list_page(s, PageParams(limit=10, cursor=CURSOR), creator_id=uuid.uuid4())
    )
    _assert_served_by(nodes, "ix_audit_audits_creator_id_created_at_id")


async def test_pending_audit_lookup_reads_an_index_on_the_creator(platform):
    # Two indexes lead with creator_id: the partial unique one (pending or running audits) and the
    # keyset one. For one creator's handful of audits both cost about the same, and which one the
    # planner takes depends on the statistics of the moment (it took either in CI), so the test
    # asks for one of them and for no scan of the whole table.
    nodes = await _plan(platform, "audit", lambda s: audits.pending_for_creator(s, uuid.uuid4()))
    used = [n.get("Index Name") for n in nodes if "Index Name" in n]
    assert used and set(used) <= {"ix_audit_audits_pending_creator_id", "ix_audit_audits_creator_id_created_at_id"}, used
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], [n["Node Type"] for n in nodes]
