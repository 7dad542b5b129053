"""Cursor (keyset) pagination for every list endpoint, ordered by (created_at, id).

Each page costs O(limit) whatever its depth, and a row never appears on two pages. A row
committed while a client is paging may be missed if its created_at (its transaction's start)
falls before the cursor; requests' transactions are short, so that window is milliseconds.
"""

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, tuple_

from shared.errors import Invalid

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: tuple[datetime, uuid.UUID] | None


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        parsed = datetime.fromisoformat(created_at)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed, uuid.UUID(row_id)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise Invalid("query.cursor", "not a cursor returned by this API") from exc


def _page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page.")] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


Page = Annotated[PageParams, Depends(_page_params)]


def next_cursor(rows: list, limit: int) -> str | None:
    """Given up to limit+1 rows ordered by (created_at, id), the cursor for the next page."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(last.created_at, last.id)


def keyset(query: Select, model, page: PageParams) -> Select:
    """Order `query` by (created_at, id), start after the cursor, fetch limit + 1 rows."""
    query = query.order_by(model.created_at, model.id).limit(page.limit + 1)
    if page.after is not None:
        query = query.where(tuple_(model.created_at, model.id) > tuple_(*page.after))
    return query
