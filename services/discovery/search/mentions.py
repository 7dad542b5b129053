"""Brand mentions and branded hashtags: the creators whose posts mention a handle or carry a
hashtag over a period, with their counts and latest matching posts.

Paged by (latest matching post time, creator id), newest first. The period's end (`until`,
default: the time of the first page) travels in the cursor, so a later page counts the same
posts as the first: a post published while a client pages does not move a creator it has not
seen yet past its cursor (a post ingested late with an older time still can).
"""

import base64
import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, literal, or_, select, tuple_

from services.discovery.creator.models import Creator, Post
from services.discovery.search.schemas import (
    SUMMARY_COLUMNS,
    CreatorSummary,
    MentionPage,
    MentionPost,
    MentionRead,
    MentionsQuery,
)
from shared.db import Reads
from shared.errors import Invalid

LATEST_POSTS = 3
_SUMMARY = [getattr(Creator, name) for name in SUMMARY_COLUMNS]
_NOT_A_CURSOR = "not a cursor returned by this API"


def _matching(q: MentionsQuery, until: datetime) -> list[ColumnElement[bool]]:
    brand = []
    if q.brand:
        brand.append(Post.mentions.contains([q.brand.removeprefix("@").lower()]))
    if q.hashtag:
        brand.append(Post.hashtags.contains([q.hashtag.removeprefix("#").lower()]))
    where = [or_(*brand) if len(brand) > 1 else brand[0], Post.posted_at < until]
    if q.since is not None:
        where.append(Post.posted_at >= q.since)
    if q.sponsored is not None:
        where.append(Post.sponsored.is_(q.sponsored))
    return where


def _encode(until: datetime, latest: datetime, creator_id: uuid.UUID) -> str:
    raw = json.dumps({"v": 1, "s": "mentions", "u": until.isoformat(), "k": [latest.isoformat(), str(creator_id)]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, datetime, uuid.UUID]:
    try:
        data = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        if data["v"] != 1 or data["s"] != "mentions":
            raise ValueError("not a mentions cursor")
        until, latest = (datetime.fromisoformat(v) for v in (data["u"], data["k"][0]))
        if until.tzinfo is None or latest.tzinfo is None:
            raise ValueError("naive timestamp")
        return until.astimezone(UTC), latest.astimezone(UTC), uuid.UUID(data["k"][1])
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise Invalid("query.cursor", _NOT_A_CURSOR) from exc


async def mentions(session: Reads, q: MentionsQuery) -> MentionPage:
    """One page of the creators who mentioned `brand` or used `hashtag` in the period."""
    until, after = q.until or datetime.now(UTC), None
    if q.cursor is not None:
        cursor_until, latest, creator_id = _decode(q.cursor)
        if q.until is not None and cursor_until != q.until:
            raise Invalid("query.cursor", "this cursor pages another period; start again without a cursor")
        until, after = cursor_until, (latest, creator_id)
    where = _matching(q, until)
    latest_at = func.max(Post.posted_at)
    counts = (
        select(
            Post.creator_id,
            func.count().label("posts"),
            func.count().filter(Post.sponsored).label("sponsored_posts"),
            latest_at.label("latest_posted_at"),
        )
        .where(*where)
        .group_by(Post.creator_id)
        .order_by(latest_at.desc(), Post.creator_id.desc())
        .limit(q.limit + 1)
    )
    if after is not None:
        counts = counts.having(
            tuple_(latest_at, Post.creator_id) < tuple_(literal(after[0], Post.posted_at.type), literal(after[1], Post.creator_id.type))
        )
    found = (await session.execute(counts)).all()
    page = found[: q.limit]
    ids = [row.creator_id for row in page]
    creators = {row.id: row for row in (await session.execute(select(*_SUMMARY).where(Creator.id.in_(ids)))).all()} if ids else {}
    posts: dict[uuid.UUID, list[MentionPost]] = {creator_id: [] for creator_id in ids}
    if ids:
        numbered = (
            select(
                Post.creator_id, Post.platform, Post.url, Post.posted_at, Post.caption, Post.sponsored,
                Post.paid_partnership,
                func.row_number().over(partition_by=Post.creator_id, order_by=(Post.posted_at.desc(), Post.id.desc())).label("n"),
            )
            .where(Post.creator_id.in_(ids), *where)
            .subquery()
        )
        latest = select(numbered).where(numbered.c.n <= LATEST_POSTS).order_by(numbered.c.creator_id, numbered.c.n)
        for row in (await session.execute(latest)).all():
            posts[row.creator_id].append(
                MentionPost(
                    platform=row.platform, url=row.url, posted_at=row.posted_at, caption=row.caption,
                    sponsored=row.sponsored, paid_partnership=row.paid_partnership,
                )
            )
    items = [
        MentionRead(
            creator=CreatorSummary.of(creators[row.creator_id]), posts=row.posts, sponsored_posts=row.sponsored_posts,
            latest_posted_at=row.latest_posted_at, latest_posts=posts[row.creator_id],
        )
        for row in page
        if row.creator_id in creators  # a creator deleted between the two reads is left out
    ]
    last = page[-1] if len(found) > q.limit else None
    return MentionPage(items=items, next_cursor=_encode(until, last.latest_posted_at, last.creator_id) if last else None)
