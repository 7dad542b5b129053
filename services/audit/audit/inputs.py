"""An audit's inputs (engine.types.AuditInputs), loaded from audit's own tables.

What is read, and its bounds (the guide lists them): the primary account's newest RECENT_POSTS
posts and its follower-count points of the last SERIES_DAYS days, the newest follower sample,
up to MAX_COMMENTS comments on the posts read, how many other creators' posts carry each of
those comment texts, and the pods that involve the creator.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.engine.types import AuditInputs, Comment, FollowerPoint, FollowerProfile, Pod, Post, Profile
from services.audit.pods.models import Pod as PodRow
from services.audit.projection.models import Creator, FollowerPoint as PointRow, Post as PostRow
from services.audit.samples.models import Comment as CommentRow, FollowerSample, SampleFollower

RECENT_POSTS = 50
SERIES_DAYS = 365
MAX_COMMENTS = 5_000

FOLLOWER_FIELDS = (
    "username", "full_name", "biography", "media_count", "follower_count", "following_count",
    "has_profile_pic", "is_private", "is_verified", "external_url",
)


@dataclass(frozen=True)
class Loaded:
    inputs: AuditInputs
    follower_sample_id: uuid.UUID | None


async def load(
    session: AsyncSession,
    creator_id: uuid.UUID,
    now: datetime,
    *,
    jurisdictions: tuple[str, ...] | None = None,
    sponsors: tuple[str, ...] = (),
) -> Loaded | None:
    """The creator's inputs as of `now`, or None when audit holds no such creator; the audit's
    disclosure settings ride along (jurisdictions None: the creator's country's plus US and UK)."""
    creator = await session.get(Creator, creator_id)
    if creator is None:
        return None
    profile = Profile(
        creator_id=creator_id, platform=creator.platform, handle=creator.handle, followers=creator.followers,
        following=creator.following, posts_count=creator.posts_count, country=creator.country,
    )
    account_id = creator.primary_account_id
    if account_id is None:  # no accounts listed: the account of the newest point, if any
        account_id = await session.scalar(
            select(PointRow.account_id).where(PointRow.creator_id == creator_id)
            .order_by(PointRow.observed_at.desc()).limit(1)
        )
    posts_query = select(PostRow).where(PostRow.creator_id == creator_id, PostRow.posted_at <= now)
    if creator.primary_account_id is not None:
        posts_query = posts_query.where(PostRow.account_id == creator.primary_account_id)
    post_rows = (
        await session.scalars(posts_query.order_by(PostRow.posted_at.desc(), PostRow.post_id).limit(RECENT_POSTS))
    ).all()
    posts = [
        Post(
            post_id=p.post_id, posted_at=p.posted_at, type=p.type, caption=p.caption, hashtags=tuple(p.hashtags),
            mentions=tuple(p.mentions), likes=p.likes, comments=p.comments, views=p.views,
            paid_partnership=p.paid_partnership, sponsored=p.sponsored, external_id=p.external_id,
        )
        for p in post_rows
    ]
    series: list[FollowerPoint] = []
    if account_id is not None:
        points = await session.execute(
            select(PointRow.observed_at, PointRow.followers)
            .where(PointRow.account_id == account_id, PointRow.observed_at >= now - timedelta(days=SERIES_DAYS),
                   PointRow.observed_at <= now)
            .order_by(PointRow.observed_at)
        )
        series = [FollowerPoint(observed_at=at, followers=n) for at, n in points]

    sample_id = await session.scalar(
        select(FollowerSample.id).where(FollowerSample.creator_id == creator_id)
        .order_by(FollowerSample.created_at.desc(), FollowerSample.id).limit(1)
    )
    followers: list[FollowerProfile] = []
    if sample_id is not None:
        columns = [getattr(SampleFollower, f) for f in FOLLOWER_FIELDS]
        result = await session.execute(
            select(*columns).where(SampleFollower.sample_id == sample_id).order_by(SampleFollower.username)
        )
        followers = [FollowerProfile(**dict(zip(FOLLOWER_FIELDS, row))) for row in result]

    comments: list[Comment] = []
    texts_elsewhere: dict[str, int] = {}
    if posts:
        result = await session.execute(
            select(CommentRow.post_id, CommentRow.author, CommentRow.text, CommentRow.commented_at, CommentRow.text_key)
            .where(CommentRow.post_id.in_([p.post_id for p in posts]))
            .order_by(CommentRow.commented_at.desc().nulls_last(), CommentRow.post_id, CommentRow.key)
            .limit(MAX_COMMENTS)
        )
        keys = set()
        for post_id, author, text, at, key in result:
            comments.append(Comment(post_id=post_id, author=author, text=text, commented_at=at))
            keys.add(key)
        if keys:
            elsewhere = await session.execute(
                select(CommentRow.text_key, func.count(func.distinct(CommentRow.post_id)))
                .where(CommentRow.text_key.in_(keys), CommentRow.creator_id != creator_id)
                .group_by(CommentRow.text_key)
            )
            texts_elsewhere = {key: count for key, count in elsewhere}

    pod_rows = (
        await session.scalars(select(PodRow).where(PodRow.creators.contains([creator_id])).order_by(PodRow.members))
    ).all()
    pods = [
        Pod(members=tuple(p.members), creators=tuple(p.creators), co_comments=p.co_comments, posts=p.posts,
            evidence=p.evidence)
        for p in pod_rows
    ]
    inputs = AuditInputs(
        profile=profile, posts=tuple(posts), series=tuple(series), followers=tuple(followers),
        comments=tuple(comments), texts_elsewhere=texts_elsewhere, pods=tuple(pods), now=now,
        jurisdictions=jurisdictions, sponsors=tuple(sponsors),
    )
    return Loaded(inputs, sample_id)
