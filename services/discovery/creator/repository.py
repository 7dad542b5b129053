import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator.models import Account, Creator, CreatorSales, FollowerPoint, Post
from shared.db import Reads, ReadStatement, rows
from shared.pagination import PagedList, PageParams, Sorts

# The orders GET /creators offers (each also descending with a '-' prefix); NULLs sort last.
SORTS = Sorts(
    Creator.id,
    created_at=Creator.created_at,
    follower_count=Creator.follower_count,
    audit_score=Creator.audit_score,
)
DEFAULT_SORT = "created_at"
Sort = SORTS.literal_type()

# Built and compiled once (shared.db.ReadStatement): the read path runs only the SQL.
_BY_ID = ReadStatement(select(Creator).where(Creator.id == bindparam("creator_id")))
_LIST = PagedList(select(Creator), SORTS, platform=Creator.platform)


async def get(session: AsyncSession | Reads, creator_id: uuid.UUID, *, for_update: bool = False) -> Creator | None:
    """The creator, or None. Through a `ReadSession` a `shared.db.Row` with the same attributes."""
    if for_update:
        query = select(Creator).where(Creator.id == creator_id).with_for_update()
        return (await session.execute(query)).scalar_one_or_none()
    found = await rows(session, _BY_ID, creator_id=creator_id)
    return found[0] if found else None


async def find_by_handle(session: AsyncSession, platform: str, handle: str) -> Creator | None:
    query = select(Creator).where(Creator.platform == platform, Creator.handle == handle)
    return (await session.execute(query)).scalar_one_or_none()


async def list_page(
    session: AsyncSession | Reads, page: PageParams, *, sort: str = DEFAULT_SORT, platform: str | None = None
) -> list[Creator]:
    """Up to page.limit + 1 creators in `sort` order (the extra row tells whether a next page exists)."""
    return await _LIST.fetch(session, page, sort, platform=platform)


async def find_account(session: AsyncSession, platform: str, handle: str) -> Account | None:
    query = select(Account).where(Account.platform == platform, Account.handle == handle).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def details(session: AsyncSession | Reads, creator_id: uuid.UUID) -> tuple[list, list, list]:
    """The creator's accounts, latest posts and sales records."""
    accounts = (await session.execute(
        select(Account).where(Account.creator_id == creator_id).order_by(Account.created_at, Account.id)
    )).scalars().all()
    posts = (await session.execute(
        select(Post).where(Post.creator_id == creator_id).order_by(Post.posted_at.desc(), Post.id.desc()).limit(12)
    )).scalars().all()
    sales = (await session.execute(
        select(CreatorSales).where(CreatorSales.creator_id == creator_id).order_by(CreatorSales.currency)
    )).scalars().all()
    return list(accounts), list(posts), list(sales)


POST_SORTS = Sorts(Post.id, posted_at=Post.posted_at)
_POSTS = PagedList(select(Post), POST_SORTS, creator_id=Post.creator_id)


async def posts_page(session: AsyncSession | Reads, creator_id: uuid.UUID, page: PageParams) -> list[Post]:
    """Up to page.limit + 1 posts of the creator, newest first."""
    return await _POSTS.fetch(session, page, "-posted_at", creator_id=creator_id)


async def follower_points(session: AsyncSession | Reads, creator_id: uuid.UUID, since) -> list:
    query = (
        select(Account.id, Account.platform, Account.handle, FollowerPoint.observed_at, FollowerPoint.followers)
        .join(FollowerPoint, (FollowerPoint.account_id == Account.id) & (FollowerPoint.observed_at >= since), isouter=True)
        .where(Account.creator_id == creator_id)
        .order_by(Account.created_at, Account.id, FollowerPoint.observed_at)
    )
    return list((await session.execute(query)).all())
