"""Keyset pagination over any declared sort, on the real database: paging through every sort
yields exactly the full order, through duplicates and NULLs; cursors are validated."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Column, DateTime, Float, MetaData, Table, delete, insert, select
from sqlalchemy.dialects.postgresql import UUID

from shared.db import make_engine
from shared.errors import Invalid
from shared.pagination import PageParams, Sorts, decode_cursor, encode_cursor

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# A scratch table of this connection only: nothing else reads or writes it while we page.
probe = Table(
    "pagination_probe",
    MetaData(),
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("follower_count", BigInteger, nullable=True),
    Column("score", Float, nullable=True),
    prefixes=["TEMPORARY"],
)
SORTS = Sorts(probe.c.id, created_at=probe.c.created_at, follower_count=probe.c.follower_count, score=probe.c.score)

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
# Few distinct values, so ties (broken by id) and NULLs are the common case.
rows_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.uuids(),
            "created_at": st.sampled_from([T0, T0 + timedelta(microseconds=1), T0 + timedelta(days=1)]),
            "follower_count": st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
            "score": st.one_of(st.none(), st.sampled_from([0.1, 2.5, 99.75])),
        }
    ),
    max_size=14,
    unique_by=lambda row: row["id"],
)


@pytest_asyncio.fixture(scope="module")
async def connection(platform):
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"])
    async with engine.connect() as conn:
        await conn.run_sync(probe.metadata.create_all)
        await conn.commit()
        yield conn
    await engine.dispose()


def expected_order(rows: list[dict], sort: str) -> list[uuid.UUID]:
    """The order the sort promises, computed without the database: values, then id, NULLs last."""
    column, descending = sort.lstrip("-"), sort.startswith("-")
    present = sorted((r for r in rows if r[column] is not None), key=lambda r: (r[column], r["id"]), reverse=descending)
    missing = sorted((r for r in rows if r[column] is None), key=lambda r: r["id"], reverse=descending)
    return [r["id"] for r in present + missing]


async def page_through(conn, sort: str, limit: int) -> list[uuid.UUID]:
    seen, cursor = [], None
    for _ in range(100):
        rows = (await conn.execute(SORTS.apply(select(probe), PageParams(limit, cursor), sort))).all()
        seen += [r.id for r in rows[:limit]]
        cursor = SORTS.next_cursor(rows, limit, sort)
        if cursor is None:
            return seen
    pytest.fail("paging did not end")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy, limit=st.integers(min_value=1, max_value=5))
async def test_paging_through_any_sort_yields_exactly_the_full_order(connection, rows, limit):
    await connection.execute(delete(probe))
    if rows:
        await connection.execute(insert(probe), rows)
    for sort in SORTS.names:
        assert await page_through(connection, sort, limit) == expected_order(rows, sort), sort


async def test_a_cursor_of_another_sort_is_rejected_naming_the_cursor():
    cursor = encode_cursor("follower_count", 3, uuid.uuid4())
    with pytest.raises(Invalid) as caught:
        decode_cursor(cursor, SORTS.by_name["-follower_count"])
    assert caught.value.detail[0]["field"] == "query.cursor"
    assert "follower_count" in caught.value.detail[0]["reason"]


@pytest.mark.parametrize(
    ("sort", "value"),
    [("created_at", "2026-11-26T12:00:00"), ("created_at", None), ("follower_count", "3"), ("score", True)],
)
async def test_a_cursor_holding_a_value_of_the_wrong_type_is_rejected(sort, value):
    with pytest.raises(Invalid) as caught:
        decode_cursor(encode_cursor(sort, value, uuid.uuid4()), SORTS.by_name[sort])
    assert caught.value.detail == [{"field": "query.cursor", "reason": "not a cursor returned by this API"}]


POSITIONS = {
    "created_at": st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    "follower_count": st.one_of(st.none(), st.integers(min_value=0, max_value=10**12)),
    "score": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
}


@given(sort=st.sampled_from(SORTS.names), row_id=st.uuids(), data=st.data())
async def test_a_cursor_round_trips(sort, row_id, data):
    value = data.draw(POSITIONS[sort.lstrip("-")])
    assert decode_cursor(encode_cursor(sort, value, row_id), SORTS.by_name[sort]) == (value, row_id)


@given(st.text(max_size=100))
async def test_any_other_text_is_rejected_as_a_cursor_or_decodes_to_a_valid_position(text):
    try:
        value, row_id = decode_cursor(text, SORTS.by_name["created_at"])
    except Invalid as exc:
        assert exc.detail[0]["field"] == "query.cursor"
    else:
        assert value.tzinfo is not None and isinstance(row_id, uuid.UUID)
