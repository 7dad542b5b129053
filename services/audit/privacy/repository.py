"""Privacy queries: the receipts (restricted to the session's workspace by shared.tenancy), the
erased creators, and everything audit holds about one creator, read or deleted. The share-link
and appeal queries name no tenant: the caller runs them across tenants
(`shared.tenancy.across_tenants`).

One creator's erasure and the application of discovery's events about it are serialised by an
advisory lock on the creator's id: the erasure holds it exclusively, each event shares it, then
looks for the creator among the erased. An event applied before the erasure is erased with the
rest; one applied after finds the creator erased; none lands in between (a plain check could
pass just before the erasure commits, and its upsert then write a fresh row after it)."""

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Delete, and_, bindparam, delete, false, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.appeals.models import Appeal
from services.audit.audit.models import Audit
from services.audit.audit.service import TOPIC as AUDIT_TOPIC
from services.audit.db import OutboxMessage
from services.audit.pods.models import Pod
from services.audit.privacy.models import ErasedCreator, PrivacyReceipt
from services.audit.projection.models import Creator, FollowerPoint, Post
from services.audit.samples.models import Comment, FollowerSample, SampleFollower
from services.audit.sharing.models import ShareLink
from shared.db import Reads, ReadStatement, rows

_RECEIPT = ReadStatement(select(PrivacyReceipt).where(PrivacyReceipt.request_id == bindparam("request_id")))
_SHARED_LOCK = text("select pg_advisory_xact_lock_shared(hashtextextended(:key, 0))")
_EXCLUSIVE_LOCK = text("select pg_advisory_xact_lock(hashtextextended(:key, 0))")


async def receipt(session: AsyncSession | Reads, request_id: uuid.UUID) -> PrivacyReceipt | None:
    """The bound workspace's receipt of `request_id`, or None."""
    found = await rows(session, _RECEIPT, request_id=request_id)
    return found[0] if found else None


def _lock_key(creator_id: uuid.UUID) -> str:
    return f"audit.creator:{creator_id}"


async def erased(session: AsyncSession, creator_id: uuid.UUID) -> bool:
    """Whether the creator was erased; until the transaction ends, its erasure waits (and one
    under way is waited for)."""
    await session.execute(_SHARED_LOCK, {"key": _lock_key(creator_id)})
    # A statement after the lock: under READ COMMITTED it sees an erasure that just committed.
    return await session.get(ErasedCreator, creator_id) is not None


async def lock_for_erasure(session: AsyncSession, creator_id: uuid.UUID) -> Creator | None:
    """Keep discovery's events about the creator out until the transaction ends; its row, locked."""
    await session.execute(_EXCLUSIVE_LOCK, {"key": _lock_key(creator_id)})
    query = select(Creator).where(Creator.creator_id == creator_id).with_for_update()
    return (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()


async def mark_erased(session: AsyncSession, creator_id: uuid.UUID) -> None:
    statement = insert(ErasedCreator).values(creator_id=creator_id).on_conflict_do_nothing()
    await session.execute(statement)


def handles(creator: Creator | None) -> dict[str, set[str]]:
    """The creator's accounts, as comments name their authors: handles by platform."""
    found: dict[str, set[str]] = defaultdict(set)
    if creator is not None:
        found[creator.platform].add(creator.handle.lower())
        for account in creator.accounts or []:
            found[account["platform"]].add(account["handle"].lower())
    return found


def _written_by(creator_id: uuid.UUID, by_platform: dict[str, set[str]]) -> ColumnElement[bool]:
    """Comments the creator's accounts wrote on other creators' posts (a comment has no
    platform: its post's)."""
    if not by_platform:
        return false()
    return and_(
        Comment.creator_id != creator_id,
        or_(*(
            and_(Comment.author.in_(sorted(names)), Comment.post_id.in_(select(Post.post_id).where(Post.platform == platform)))
            for platform, names in sorted(by_platform.items())
        )),
    )


def _pods_naming(creator_id: uuid.UUID, by_platform: dict[str, set[str]]) -> ColumnElement[bool]:
    """Pods among whose creators it is, or among whose members one of its accounts is."""
    names = sorted(set().union(*by_platform.values())) if by_platform else []
    involved = Pod.creators.contains([creator_id])
    return or_(involved, Pod.members.overlap(names)) if names else involved


def _links(creator_id: uuid.UUID):
    return select(ShareLink.id).where(ShareLink.creator_id == creator_id)


def _appeals(creator_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(Appeal.creator_id == creator_id, Appeal.share_link_id.in_(_links(creator_id)))


@dataclass(frozen=True)
class Held:
    """What audit holds about one creator: its copy, its audits, pods and appeals, and counts."""

    creator: Creator | None
    audits: list[Audit]
    pods: list[Pod]
    appeals: list[Appeal]
    counts: dict[str, int]

    @property
    def anything(self) -> bool:
        return self.creator is not None or bool(self.audits or self.pods or self.appeals) or any(self.counts.values())


async def _count(session: AsyncSession, model, condition: ColumnElement[bool]) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(condition)) or 0


async def held(session: AsyncSession, creator_id: uuid.UUID) -> Held:
    creator = (await session.execute(select(Creator).where(Creator.creator_id == creator_id))).scalar_one_or_none()
    by_platform = handles(creator)
    samples = select(FollowerSample.id).where(FollowerSample.creator_id == creator_id)
    audits = (await session.scalars(
        select(Audit).where(Audit.creator_id == creator_id).order_by(Audit.created_at, Audit.id)
    )).all()
    pods = (await session.scalars(
        select(Pod).where(_pods_naming(creator_id, by_platform)).order_by(Pod.computed_at, Pod.id)
    )).all()
    appeals = (await session.scalars(
        select(Appeal).where(_appeals(creator_id)).order_by(Appeal.created_at, Appeal.id)
    )).all()
    counts = {
        "posts": await _count(session, Post, Post.creator_id == creator_id),
        "follower_points": await _count(session, FollowerPoint, FollowerPoint.creator_id == creator_id),
        "follower_samples": await _count(session, FollowerSample, FollowerSample.creator_id == creator_id),
        "sampled_followers": await _count(session, SampleFollower, SampleFollower.sample_id.in_(samples)),
        "comments_on_their_posts": await _count(session, Comment, Comment.creator_id == creator_id),
        "comments_they_wrote": await _count(session, Comment, _written_by(creator_id, by_platform)),
        "share_links": await _count(session, ShareLink, ShareLink.creator_id == creator_id),
    }
    return Held(creator, list(audits), list(pods), list(appeals), counts)


def comments(creator_id: uuid.UUID, by_platform: dict[str, set[str]]) -> list[tuple[str, Delete]]:
    """The comments an erasure deletes, each named as the receipt says it: the creator's words
    on other creators' posts too."""
    return [
        ("comments the creator's accounts wrote on other creators' posts",
         delete(Comment).where(_written_by(creator_id, by_platform))),
        ("comments on the creator's posts", delete(Comment).where(Comment.creator_id == creator_id)),
    ]


def erasure(creator_id: uuid.UUID) -> list[tuple[str, Delete]]:
    """The other deletes of an erasure, each named as the receipt says it; children first (an
    appeal's share link has no cascade; a sample's followers do, but are counted)."""
    samples = select(FollowerSample.id).where(FollowerSample.creator_id == creator_id)
    return [
        ("sampled followers", delete(SampleFollower).where(SampleFollower.sample_id.in_(samples))),
        ("follower sample versions", delete(FollowerSample).where(FollowerSample.creator_id == creator_id)),
        ("posts", delete(Post).where(Post.creator_id == creator_id)),
        ("follower points", delete(FollowerPoint).where(FollowerPoint.creator_id == creator_id)),
        ("appeals, in every workspace", delete(Appeal).where(_appeals(creator_id))),
        ("share links, in every workspace", delete(ShareLink).where(ShareLink.creator_id == creator_id)),
        ("audits", delete(Audit).where(Audit.creator_id == creator_id)),
    ]


def creator(creator_id: uuid.UUID) -> Delete:
    return delete(Creator).where(Creator.creator_id == creator_id)


def pods(creator_id: uuid.UUID, by_platform: dict[str, set[str]]) -> Delete:
    return delete(Pod).where(_pods_naming(creator_id, by_platform))


def unpublished(creator_id: uuid.UUID) -> Delete:
    """The creator's audit events still in the outbox (rows the relay claimed are being sent:
    the delete waits for it, and then they are sent)."""
    return delete(OutboxMessage).where(
        OutboxMessage.topic == AUDIT_TOPIC, OutboxMessage.key == str(creator_id), OutboxMessage.sent_at.is_(None)
    )


async def deleted(session: AsyncSession, statement: Delete) -> int:
    """Run a bulk delete; the rows it removed."""
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount
