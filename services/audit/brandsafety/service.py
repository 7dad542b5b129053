"""Brand safety: a tenant's keyword lists (one name per tenant, at most MAX_LISTS), and the check
of a creator against the default list and the tenant's lists.

The check reads what an audit reads (audit.inputs): the creator's bio, the captions of the
primary account's newest RECENT_POSTS posts and up to MAX_COMMENTS comments on them. The tenant
is never a parameter: the session carries it, and with it the lists applied.
"""

import asyncio
import uuid
from collections import Counter
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.audit.inputs import MAX_COMMENTS, RECENT_POSTS
from services.audit.brandsafety import repository
from services.audit.brandsafety.models import BrandSafetyList
from services.audit.brandsafety.schemas import (
    BrandSafetyListCreate,
    BrandSafetyListUpdate,
    BrandSafetyRead,
    CategorySummary,
    Checked,
    DefaultCategory,
    DefaultListRead,
    HitRead,
    ListVersion,
)
from services.audit.engine.brandsafety.lists import Term, TermList, default_list
from services.audit.engine.brandsafety.matcher import compile_list
from services.audit.engine.brandsafety.scan import Found, scan
from services.audit.projection.models import Creator, Post
from services.audit.samples.models import Comment
from shared import tenancy
from shared.db import Reads, utcnow
from shared.errors import Conflict, NotFound

MAX_LISTS = 50
MAX_HITS = 500
# Characters of terms across all of a tenant's lists. Compiling grows with them (Python's regular
# expression compiler: ~2 s for 10,000 characters of varied terms, once per list revision and
# process), and a check compiles every list it has not seen: the budget bounds a check's cost.
MAX_TERM_CHARACTERS = 10_000


def not_found(list_id: uuid.UUID) -> NotFound:
    return NotFound(f"brand-safety list {list_id} does not exist")


def _name_taken(name: str) -> Conflict:
    return Conflict([{"field": "body.name", "reason": f"you already have a brand-safety list named {name!r}"}])


async def _one_writer(session: AsyncSession) -> None:
    """A tenant's list writes one at a time, until the transaction ends: the list count and the
    term budget are read and written by one request, so concurrent ones cannot pass the checks
    together and exceed them."""
    tenant = tenancy.raw_tenant(tenancy.bound_tenant(session))
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"brand-safety:{tenant}", 0))))


async def create(session: AsyncSession, data: BrandSafetyListCreate) -> BrandSafetyList:
    await _one_writer(session)
    if await repository.find_by_name(session, data.name):
        raise _name_taken(data.name)
    if await repository.count(session) >= MAX_LISTS:
        raise Conflict([{"field": "body", "reason": f"you have {MAX_LISTS} lists already; add terms to one of them"}])
    await _within_budget(session, data.terms)
    row = BrandSafetyList(id=uuid.uuid4(), **data.model_dump())
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create took the name
        raise _name_taken(data.name) from exc
    await session.refresh(row)
    return row


async def _within_budget(session: AsyncSession, terms: list[str], instead_of: uuid.UUID | None = None) -> None:
    others = sum(len(t) for row in await repository.all_lists(session) if row.id != instead_of for t in row.terms)
    total = others + sum(len(t) for t in terms)
    if total > MAX_TERM_CHARACTERS:
        raise Conflict([{"field": "body.terms", "reason": (
            f"your lists would hold {total} characters of terms; at most {MAX_TERM_CHARACTERS} across all "
            f"lists ({others} in the others)")}])


async def owned(session: AsyncSession, list_id: uuid.UUID) -> BrandSafetyList:
    """The caller's list, locked for the rest of the transaction, or 404."""
    row = await repository.get(session, list_id, for_update=True)
    if row is None:
        raise not_found(list_id)
    return row


async def update(session: AsyncSession, list_id: uuid.UUID, data: BrandSafetyListUpdate) -> BrandSafetyList:
    await _one_writer(session)
    row = await owned(session, list_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(row, k) != v}
    if not changes:  # the same request again changes nothing, not even the revision
        return row
    if "name" in changes and await repository.find_by_name(session, changes["name"]):
        raise _name_taken(changes["name"])
    if "terms" in changes:
        await _within_budget(session, changes["terms"], instead_of=row.id)
    for key, value in changes.items():
        setattr(row, key, value)
    row.revision += 1
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _name_taken(changes["name"]) from exc
    await session.refresh(row)
    return row


async def delete(session: AsyncSession, list_id: uuid.UUID) -> None:
    await session.delete(await owned(session, list_id))


def default_read() -> DefaultListRead:
    default = default_list()
    categories = []
    for category in default.categories:
        terms = [t for t in default.terms.terms if t.category == category]
        categories.append(DefaultCategory(
            category=category, garm=list(default.garm[category]), terms=[t.text for t in terms],
            exceptions={t.text: list(t.exceptions) for t in terms if t.exceptions},
        ))
    return DefaultListRead(version=default.terms.version, source=default.source, categories=categories)


def term_list(row) -> TermList:
    """A tenant list as the engine takes it; its revision is in it, so the compiled matcher of an
    edited list is not the cached one of its previous revision."""
    return TermList(
        label=row.name, version=f"r{row.revision}", list_id=row.id,
        terms=tuple(Term(text, row.category) for text in row.terms),
    )


def _without(default: TermList, excluded: set[str]) -> TermList:
    """The default list less the categories the tenant excludes (same label and version: the hits
    it gives are the default's; the answer names what was skipped)."""
    if not excluded:
        return default
    return replace(default, terms=tuple(t for t in default.terms if t.category not in excluded))


def _hit(found: Found, where: str, post, author: str | None) -> HitRead:
    return HitRead(
        category=found.category, term=found.term, matched=found.matched, list=found.list, list_id=found.list_id,
        where=where, post_id=post.post_id if post else None, external_id=post.external_id if post else None,
        posted_at=post.posted_at if post else None, comment_author=author, excerpt=found.excerpt,
    )


def _hits(texts, lists: list[TermList]) -> list[HitRead]:
    # Compiling a new list (a tenant's 500 terms: 0.1-0.7 s) happens here too, once per list value.
    matchers = [compile_list(t) for t in lists]
    return [_hit(found, where, post, author) for where, post, author, text in texts for found in scan(text, matchers)]


async def check(session: AsyncSession | Reads, creator_id: uuid.UUID) -> BrandSafetyRead:
    """Every hit of the default list and the session tenant's lists in the creator's bio, recent
    captions and the comments on them; NotFound when audit holds no such creator."""
    creator = await session.get(Creator, creator_id)
    if creator is None:
        raise NotFound(f"audit holds no creator {creator_id}")
    default = default_list()
    own = await repository.all_lists(session)
    excluded = {c for row in own for c in row.exclude_default_categories}
    lists = [_without(default.terms, excluded), *(term_list(row) for row in own)]

    # The posts an audit reads (audit.inputs.load), as of now.
    posts_query = select(Post).where(Post.creator_id == creator_id, Post.posted_at <= utcnow())
    if creator.primary_account_id is not None:
        posts_query = posts_query.where(Post.account_id == creator.primary_account_id)
    posts = list(
        (await session.scalars(posts_query.order_by(Post.posted_at.desc(), Post.post_id).limit(RECENT_POSTS))).all()
    )
    comments_by_post: dict[uuid.UUID, list] = {}
    comment_count = 0
    if posts:
        result = await session.execute(
            select(Comment.post_id, Comment.author, Comment.text)
            .where(Comment.post_id.in_([p.post_id for p in posts]))
            .order_by(Comment.commented_at.desc().nulls_last(), Comment.post_id, Comment.key)
            .limit(MAX_COMMENTS)
        )
        for post_id, author, text in result:
            comments_by_post.setdefault(post_id, []).append((author, text))
            comment_count += 1

    texts: list[tuple[str, object, str | None, str | None]] = [("bio", None, None, creator.bio)]
    for post in posts:
        texts.append(("caption", post, None, post.caption))
        texts += [("comment", post, author, text) for author, text in comments_by_post.get(post.post_id, ())]
    # Up to 5,000 comments are 0.2-0.5 s of matching: off the event loop, which serves other requests.
    hits = await asyncio.to_thread(_hits, texts, lists)

    counts = Counter(h.category for h in hits)
    own_categories = {row.category for row in own}
    categories = [c for c in default.categories if c not in excluded or c in own_categories]
    categories += sorted(own_categories - set(default.categories))
    return BrandSafetyRead(
        creator_id=creator_id,
        checked=Checked(bio=bool(creator.bio), posts=len(posts), comments=comment_count),
        excluded_default_categories=[c for c in default.categories if c in excluded],
        versions=[ListVersion(list=t.label, list_id=t.list_id, version=t.version, terms=len(t.terms)) for t in lists],
        summary=[CategorySummary(category=c, hits=counts[c]) for c in categories],
        hits_total=len(hits),
        truncated=len(hits) > MAX_HITS,
        hits=hits[:MAX_HITS],
    )
