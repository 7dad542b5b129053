"""Discovery's creator events projected into audit's tables (creators, posts, follower_points).

Every write is an upsert keyed by the fact's own id (creator id, post id, account + observed_at)
that applies only when the event is newer than what the row holds, by the envelope's sequence
(discovery.creator.v2 numbers each creator's events, ADR 0003). So a duplicate delivery, a
replay, or an old event arriving after a newer one changes nothing. An unsequenced event (from
before sequences existed) is applied only over a row that has no sequence either.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import and_, or_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.projection.models import Creator, FollowerPoint, Post
from shared.contracts.discovery import CreatorPayload, FollowerCountsObserved, PostsObserved
from shared.contracts.envelope import Envelope
from shared.db import utcnow


def _aware(at: datetime) -> datetime:
    """The contract allows a naive time here; discovery writes UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _newer(table, excluded):
    """The upsert's guard: the incoming row is newer than the stored one."""
    return or_(
        table.c.sequence.is_(None),
        and_(excluded.sequence.is_not(None), excluded.sequence > table.c.sequence),
    )


async def apply_creator(session: AsyncSession, event: Envelope[CreatorPayload]) -> bool:
    """The creator's primary account and accounts; True when the row changed."""
    creator = event.payload
    primary = next(
        (a for a in creator.accounts if a.platform == creator.platform and a.handle == creator.handle), None
    )
    values = {
        "creator_id": creator.creator_id,
        "platform": creator.platform,
        "handle": creator.handle,
        "display_name": creator.display_name,
        "primary_account_id": primary.account_id if primary else None,
        "followers": creator.follower_count if creator.follower_count is not None else (primary and primary.followers),
        "following": primary.following if primary else None,
        "posts_count": primary.posts_count if primary else None,
        "accounts": [a.model_dump(mode="json") for a in creator.accounts],
        "bio": creator.bio,
        "country": creator.country.upper() if creator.country else None,
        "languages": list(creator.languages),
        "sequence": event.sequence,
        "updated_at": utcnow(),
    }
    table = Creator.__table__
    statement = insert(table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.creator_id],
        set_={k: statement.excluded[k] for k in values if k != "creator_id"},
        where=_newer(table, statement.excluded),
    ).returning(table.c.creator_id)
    return (await session.execute(statement)).first() is not None


async def apply_posts(session: AsyncSession, event: Envelope[PostsObserved]) -> int:
    """Upsert the posts by discovery's post id; the number of rows written."""
    rows = {}
    for p in event.payload.posts:  # one post twice in a payload: the later one wins
        rows[p.post_id] = {
            "post_id": p.post_id,
            "creator_id": event.payload.creator_id,
            "account_id": p.account_id,
            "platform": p.platform,
            "external_id": p.external_id,
            "posted_at": p.posted_at,
            "type": p.type,
            "caption": p.caption,
            "hashtags": p.hashtags,
            "mentions": p.mentions,
            "likes": p.likes,
            "comments": p.comments,
            "views": p.views,
            "paid_partnership": p.paid_partnership,
            "sponsored": p.sponsored,
            "sequence": event.sequence,
            "updated_at": utcnow(),
        }
    if not rows:
        return 0
    table = Post.__table__
    statement = insert(table).values(list(rows.values()))
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.post_id],
        set_={k: statement.excluded[k] for k in next(iter(rows.values())) if k != "post_id"},
        where=_newer(table, statement.excluded),
    ).returning(table.c.post_id)
    return len((await session.execute(statement)).all())


async def apply_follower_counts(session: AsyncSession, event: Envelope[FollowerCountsObserved]) -> int:
    """Upsert the points by account + observed_at; the number of rows written."""
    payload = event.payload
    rows = {
        _aware(p.observed_at): {
            "account_id": payload.account_id,
            "observed_at": _aware(p.observed_at),
            "creator_id": payload.creator_id,
            "followers": p.followers,
            "sequence": event.sequence,
        }
        for p in payload.points
    }
    if not rows:
        return 0
    table = FollowerPoint.__table__
    statement = insert(table).values(list(rows.values()))
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.account_id, table.c.observed_at],
        set_={"creator_id": statement.excluded.creator_id, "followers": statement.excluded.followers,
              "sequence": statement.excluded.sequence},
        where=_newer(table, statement.excluded),
    ).returning(table.c.account_id)
    return len((await session.execute(statement)).all())


async def known(session: AsyncSession, creator_id: uuid.UUID) -> bool:
    return await session.get(Creator, creator_id) is not None
