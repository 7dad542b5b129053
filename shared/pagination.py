"""Cursor (keyset) pagination for every list endpoint, over any declared sort.

A list declares its sorts once (`Sorts(Model.id, created_at=Model.created_at, ...)`); each
column can be sorted ascending (`created_at`) or descending (`-created_at`), NULLs last in both
directions, with `id` (in the same direction) as the tiebreaker, so the order is total. Each
page costs O(limit) whatever its depth. The cursor is opaque to clients: versioned base64 JSON of
the sort's name and the last row's (value, id); a cursor of another sort, another version or
with values of the wrong type is a 422 naming `query.cursor`.

Under concurrent writes: a page starts strictly after the last row the client saw, so a row
whose key does not change is never repeated or skipped; rows inserted ahead of the cursor
appear, rows inserted behind it do not. A row whose sort key changes while a client pages
moves: it can appear twice (moved ahead of the cursor) or not at all (moved behind it). With
`created_at` a row committed late with an early timestamp (its transaction's start) can be
missed; requests' transactions are short, so that window is milliseconds.
"""

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, literal, or_, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Reads, ReadStatement, rows
from shared.errors import Invalid

T = TypeVar("T")

CURSOR_VERSION = 1
_NOT_A_CURSOR = "not a cursor returned by this API"


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


# async, although it awaits nothing: FastAPI runs a plain `def` dependency in a worker thread,
# a hand-off to the thread pool and back on every list request.
async def _page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page, with the same `sort`.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


Page = Annotated[PageParams, Depends(_page_params)]


@dataclass(frozen=True)
class Sort:
    """One way to order a list: a column, its direction, and the tiebreaker."""

    name: str
    column: Any
    tiebreaker: Any
    descending: bool

    @property
    def nullable(self) -> bool:
        return bool(self.column.nullable)

    def __post_init__(self) -> None:
        # Built once: constructing these clauses on every request was a tenth of a list
        # request's CPU time. SQLAlchemy clauses are immutable, so sharing them is safe.
        # NULLS LAST is PostgreSQL's default ascending. Descending it is spelt out only for a
        # nullable column: on a NOT NULL one the plain DESC lets one ascending index serve both
        # directions (the planner does not use NOT NULL to match NULLS LAST to a backward scan).
        if not self.descending:
            clauses = (self.column.asc(), self.tiebreaker.asc())
        elif self.nullable:
            clauses = (self.column.desc().nulls_last(), self.tiebreaker.desc())
        else:
            clauses = (self.column.desc(), self.tiebreaker.desc())
        object.__setattr__(self, "_order_by", clauses)

    def order_by(self) -> list[ColumnElement]:
        return list(self._order_by)

    def after(self, value: Any, row_id: Any) -> ColumnElement[bool]:
        """Rows strictly after (value, row_id) in this order."""
        tiebreaker = literal(row_id, self.tiebreaker.type)
        if value is None:  # already in the NULL tail: only the tiebreaker moves on
            moved_on = self.tiebreaker < tiebreaker if self.descending else self.tiebreaker > tiebreaker
            return and_(self.column.is_(None), moved_on)
        position = tuple_(literal(value, self.column.type), tiebreaker)
        keys = tuple_(self.column, self.tiebreaker)
        ahead = keys < position if self.descending else keys > position
        return or_(ahead, self.column.is_(None)) if self.nullable else ahead

    def after_bound(self, in_null_tail: bool) -> ColumnElement[bool]:
        """`after` with bound parameters `after_value` and `after_id`, to be built once per shape."""
        tiebreaker = bindparam("after_id", type_=self.tiebreaker.type)
        if in_null_tail:
            moved_on = self.tiebreaker < tiebreaker if self.descending else self.tiebreaker > tiebreaker
            return and_(self.column.is_(None), moved_on)
        position = tuple_(bindparam("after_value", type_=self.column.type), tiebreaker)
        keys = tuple_(self.column, self.tiebreaker)
        ahead = keys < position if self.descending else keys > position
        return or_(ahead, self.column.is_(None)) if self.nullable else ahead


class Sorts:
    """The sorts one list offers: every named column ascending and, prefixed '-', descending."""

    def __init__(self, tiebreaker, **columns):
        self.by_name: dict[str, Sort] = {}
        for name, column in columns.items():
            self.by_name[name] = Sort(name, column, tiebreaker, descending=False)
            self.by_name[f"-{name}"] = Sort(f"-{name}", column, tiebreaker, descending=True)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.by_name)

    def literal_type(self) -> Any:
        """A `Literal` of the sort names, for the endpoint's `sort` query parameter (an enum in OpenAPI)."""
        return Literal[self.names]  # type: ignore[valid-type]

    def apply(self, query: Select, page: PageParams, sort: str) -> Select:
        """Order `query` by `sort`, start after the cursor, fetch limit + 1 rows."""
        chosen = self.by_name[sort]
        query = query.order_by(*chosen.order_by()).limit(page.limit + 1)
        if page.cursor is not None:
            value, row_id = decode_cursor(page.cursor, chosen)
            query = query.where(chosen.after(value, row_id))
        return query

    def next_cursor(self, rows: list, limit: int, sort: str) -> str | None:
        """Given up to limit+1 rows from `apply`, the cursor for the next page."""
        if len(rows) <= limit:
            return None
        chosen = self.by_name[sort]
        last = rows[limit - 1]
        return encode_cursor(sort, getattr(last, chosen.column.key), getattr(last, chosen.tiebreaker.key))


# Where a page starts: the first page, after a row in the NULL tail, after a row with a value.
_FIRST, _NULL_TAIL, _AFTER_VALUE = "first", "null_tail", "after_value"


class PagedList:
    """A list endpoint's query, paged by `sorts` and filtered by equality on `filters` (query
    parameter name → column), with its statements built and compiled once per shape.

    A shape is (sort, the filters given, where the page starts); each is a `ReadStatement` with
    bound parameters, so a request only decodes its cursor and runs the SQL (see
    `shared.db.ReadStatement`). The shapes are few (sorts x filter subsets x 3) and built on
    first use.
    """

    def __init__(self, query: Select, sorts: Sorts, **filters: Any):
        self.query = query
        self.sorts = sorts
        self.filters = filters
        self._statements: dict[tuple[str, frozenset[str], str], ReadStatement] = {}

    def _statement(self, sort: Sort, given: frozenset[str], start: str) -> ReadStatement:
        key = (sort.name, given, start)
        statement = self._statements.get(key)
        if statement is None:
            query = self.query
            for name in sorted(given):
                query = query.where(self.filters[name] == bindparam(name))
            if start != _FIRST:
                query = query.where(sort.after_bound(in_null_tail=start == _NULL_TAIL))
            query = query.order_by(*sort.order_by()).limit(bindparam("limit", type_=Integer))
            statement = self._statements[key] = ReadStatement(query)
        return statement

    async def fetch(self, session: AsyncSession | Reads, page: PageParams, sort: str, **filters: Any) -> list:
        """Up to page.limit + 1 rows in `sort` order after the cursor (the extra row tells whether a
        next page exists); filters given as None are left out. Invalid naming `query.cursor` for
        a cursor that is not one of this sort's."""
        chosen = self.sorts.by_name[sort]
        params = {name: value for name, value in filters.items() if value is not None}
        given = frozenset(params)
        start = _FIRST
        if page.cursor is not None:
            value, row_id = decode_cursor(page.cursor, chosen)
            params["after_id"] = row_id
            if value is None:
                start = _NULL_TAIL
            else:
                start = _AFTER_VALUE
                params["after_value"] = value
        params["limit"] = page.limit + 1
        return await rows(session, self._statement(chosen, given, start), **params)


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def encode_cursor(sort: str, value: Any, row_id: Any) -> str:
    raw = json.dumps({"v": CURSOR_VERSION, "s": sort, "k": [_to_json(value), _to_json(row_id)]}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _from_json(value: Any, column) -> Any:
    kind = column.type.python_type
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        # In UTC, which PostgreSQL can hold: 9999-12-31T23:59-14:00 is past year 9999 there.
        return parsed.astimezone(UTC)
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) <= value < 2**63:  # a BIGINT at most; past it the database would refuse
            raise ValueError("integer out of range")
        return value
    if kind is str and isinstance(value, str):
        return value
    raise ValueError(f"{value!r} is not a {kind.__name__}")


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, Any]:
    """The (value, id) position a cursor of `sort` encodes; Invalid naming `query.cursor` otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data["v"] != CURSOR_VERSION:
            raise ValueError("unknown cursor version")
        cursor_sort, (value, row_id) = data["s"], data["k"]
    except (ValueError, TypeError, KeyError, json.JSONDecodeError) as exc:
        raise Invalid("query.cursor", _NOT_A_CURSOR) from exc
    if cursor_sort != sort.name:
        raise Invalid(
            "query.cursor", f"this cursor pages sort '{cursor_sort}', not '{sort.name}'; start again without a cursor"
        )
    try:
        if value is None and not sort.nullable:
            raise ValueError("null position in a non-null column")
        position = None if value is None else _from_json(value, sort.column)
        return position, _from_json(row_id, sort.tiebreaker)
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        raise Invalid("query.cursor", _NOT_A_CURSOR) from exc


def keyset(query: Select, model, page: PageParams) -> Select:
    """The default order of a list, oldest first: `Sorts(model.id, created_at=...)` as 'created_at'."""
    return Sorts(model.id, created_at=model.created_at).apply(query, page, "created_at")


def next_cursor(rows: list, limit: int) -> str | None:
    """The next cursor of a list paged by `keyset` (oldest first)."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor("created_at", last.created_at, last.id)
