"""Privacy queries: the receipts (restricted to the session's workspace by shared.tenancy), and
everything discovery holds about one creator, read or deleted. The shortlist queries name no
tenant: the caller runs them across tenants (`shared.tenancy.across_tenants`)."""

import uuid
from dataclasses import dataclass

from sqlalchemy import Delete, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator.ingest import TOPIC as CREATOR_TOPIC
from services.discovery.creator.models import Account, Creator, CreatorSales, FollowerPoint, Post
from services.discovery.db import OutboxMessage
from services.discovery.privacy.models import PrivacyReceipt
from services.discovery.shortlist.models import ShortlistEntry, StageChange
from shared.db import Reads, ReadStatement, rows

_RECEIPT = ReadStatement(select(PrivacyReceipt).where(PrivacyReceipt.request_id == bindparam("request_id")))


async def receipt(session: AsyncSession | Reads, request_id: uuid.UUID) -> PrivacyReceipt | None:
    """The bound workspace's receipt of `request_id`, or None."""
    found = await rows(session, _RECEIPT, request_id=request_id)
    return found[0] if found else None


@dataclass(frozen=True)
class Held:
    """What discovery holds about one creator, its detail rows in a stable order."""

    creator: Creator
    accounts: list[Account]
    posts: list[Post]
    points: list[FollowerPoint]
    sales: list[CreatorSales]
    shortlist_entries: int


async def held(session: AsyncSession, creator_id: uuid.UUID) -> Held | None:
    """Everything about the creator (the shortlist entries naming it as a number), or None."""
    creator = (await session.execute(select(Creator).where(Creator.id == creator_id))).scalar_one_or_none()
    if creator is None:
        return None
    accounts = (await session.scalars(
        select(Account).where(Account.creator_id == creator_id).order_by(Account.created_at, Account.id)
    )).all()
    posts = (await session.scalars(
        select(Post).where(Post.creator_id == creator_id).order_by(Post.posted_at, Post.id)
    )).all()
    points = (await session.scalars(
        select(FollowerPoint).join(Account, Account.id == FollowerPoint.account_id)
        .where(Account.creator_id == creator_id).order_by(FollowerPoint.account_id, FollowerPoint.observed_at)
    )).all()
    sales = (await session.scalars(
        select(CreatorSales).where(CreatorSales.creator_id == creator_id).order_by(CreatorSales.currency)
    )).all()
    entries = await session.scalar(
        select(func.count()).select_from(ShortlistEntry).where(ShortlistEntry.creator_id == creator_id)
    )
    return Held(creator, list(accounts), list(posts), list(points), list(sales), entries or 0)


async def lock_creator(session: AsyncSession, creator_id: uuid.UUID) -> bool:
    """Lock the creator's row until the transaction ends; whether it exists. A concurrent write
    of its accounts, posts or entries (their foreign keys take a KEY SHARE lock) waits, then
    finds it gone."""
    found = await session.execute(select(Creator.id).where(Creator.id == creator_id).with_for_update())
    return found.first() is not None


def erasure(creator_id: uuid.UUID) -> list[tuple[str, Delete]]:
    """The deletes of an erasure, children first, each named as the receipt says it. The foreign
    keys cascade from the creator row anyway; deleting each table explicitly counts its rows."""
    accounts = select(Account.id).where(Account.creator_id == creator_id)
    return [
        ("follower points", delete(FollowerPoint).where(FollowerPoint.account_id.in_(accounts))),
        ("posts", delete(Post).where(Post.creator_id == creator_id)),
        ("sales records (attribution's figures, per currency)", delete(CreatorSales).where(CreatorSales.creator_id == creator_id)),
        ("shortlist entries' stage history, in every workspace", delete(StageChange).where(StageChange.creator_id == creator_id)),
        ("shortlist entries, in every workspace", delete(ShortlistEntry).where(ShortlistEntry.creator_id == creator_id)),
        ("accounts", delete(Account).where(Account.creator_id == creator_id)),
        ("the creator: profile, contact details, price estimates, audience, embeddings, audit status",
         delete(Creator).where(Creator.id == creator_id)),
    ]


def unpublished(creator_id: uuid.UUID) -> Delete:
    """The creator's events still in the outbox. Rows the relay has claimed are being sent: the
    delete waits for it, and then they are sent. Their sequence numbers leave a gap, which
    consumers allow (shared/contracts/envelope.py)."""
    return delete(OutboxMessage).where(
        OutboxMessage.topic == CREATOR_TOPIC, OutboxMessage.key == str(creator_id), OutboxMessage.sent_at.is_(None)
    )


async def deleted(session: AsyncSession, statement: Delete) -> int:
    """Run a bulk delete; the rows it removed."""
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount
