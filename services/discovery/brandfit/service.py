"""Brand fit: a brief's candidates scored exactly on seven factors and ranked; saved briefs (one
name per tenant; the tenant is never a parameter here, the session carries it)."""

import asyncio
import uuid
from functools import lru_cache

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.brandfit import repository, scoring
from services.discovery.brandfit.models import SavedBrief
from services.discovery.brandfit.peers import peer_medians
from services.discovery.brandfit.schemas import (
    Brief,
    BriefCreate,
    BriefUpdate,
    BrandFitResult,
    FitCreator,
)
from services.discovery.embedding.encoder import get_encoder
from services.discovery.search.filters import STORED, CreatorFilters, conditions
from services.discovery.search.schemas import CreatorSummary
from shared.db import utcnow
from shared.errors import Conflict, NotFound


@lru_cache(maxsize=256)
def _embed(text: str) -> tuple[float, ...]:
    # A saved brief re-run, or the same brief paged through, is not encoded twice.
    return tuple(float(x) for x in get_encoder().encode([text])[0])


async def brief_vector(brief: Brief) -> list[float]:
    """The brief's content embedding, off the event loop (a forward pass of the model)."""
    return list(await asyncio.to_thread(_embed, brief.text()))


def hard_filters(brief: Brief) -> list:
    """The brief's platforms, follower range, excluded categories and extra filters, as WHERE clauses."""
    own = CreatorFilters(
        platform=brief.platforms or None, followers_min=brief.followers_min, followers_max=brief.followers_max
    )
    where = conditions(own) + (conditions(brief.filters) if brief.filters else [])
    if brief.exclusions and brief.exclusions.categories:
        where.append(repository.excluded_categories(brief.exclusions.categories))
    return where


def _bio_evidence(brief: Brief, rows: list) -> dict[uuid.UUID, scoring.Evidence]:
    """Each candidate's Evidence with the excluded keywords found in its bio (no query needed)."""
    found = {row.id: scoring.Evidence() for row in rows}
    for term, pattern in scoring.exclusion_patterns(brief):
        for row in rows:
            if row.bio and pattern.search(row.bio):
                found[row.id].safety.append((term, "the bio"))
    return found


async def _post_evidence(session: AsyncSession, brief: Brief, rows: list, found: dict[uuid.UUID, scoring.Evidence]) -> None:
    """Add to `found` what the posts of `rows` show: excluded keywords in the latest captions, and
    sponsored posts for a competitor within the window."""
    ids = [row.id for row in rows]
    patterns = scoring.exclusion_patterns(brief)
    if patterns and ids:
        for post in await repository.recent_captions(session, ids):
            for term, pattern in patterns:
                if pattern.search(post.caption):
                    found[post.creator_id].safety.append((term, scoring.post_label(post.external_id, post.url, post.posted_at)))
    if brief.competitors and ids:
        window = repository.since(scoring.COMPETITOR_WINDOW_DAYS, utcnow())
        for post in await repository.competitor_sponsorships(session, ids, brief.competitors, window):
            label = scoring.post_label(post.external_id, post.url, post.posted_at)
            for handle in brief.competitors:
                if handle in post.mentions:
                    found[post.creator_id].sponsorships.append((handle, label))


def _score(brief: Brief, row, found: scoring.Evidence, medians, weights) -> tuple[float, list]:
    factors = [
        scoring.audience_match(brief, row, weights),
        scoring.content_similarity(row.similarity, weights),
        scoring.authenticity(row, weights),
        scoring.engagement(row, medians.get((row.platform, row.tier)), weights),
        scoring.price(brief, row, weights),
        scoring.brand_safety(brief, found, weights),
        scoring.competitors(brief, found, weights),
    ]
    return scoring.total(factors, found), factors


# Candidates whose posts are read at a time, as a multiple of the answer's limit.
POSTS_BATCH = 2


async def rank(session: AsyncSession, brief: Brief, limit: int) -> BrandFitResult:
    """Candidates by index, then every factor of each computed exactly, best total first.

    What the posts can show (an excluded keyword in a caption, a competitor's sponsorship) only
    ever lowers a total, so the total without it is an upper bound: candidates are taken in the
    order of that bound, their posts read a batch at a time, and reading stops once `limit`
    exact totals beat the bound of every candidate left. The answer is the one scoring every
    candidate's posts would give, for the posts of a few dozen creators instead of hundreds."""
    vector = await brief_vector(brief)
    rows = await repository.candidates(session, hard_filters(brief), vector, brief.niches)
    medians = await peer_medians.medians(session, {(r.platform, r.tier) for r in rows if r.tier and r.engagement_rate is not None})
    weights = scoring.weights_for(brief)
    evidence = _bio_evidence(brief, rows)
    reads_posts = bool(scoring.exclusion_patterns(brief) or brief.competitors)
    bounded = sorted(
        ((_score(brief, row, evidence[row.id], medians, weights)[0], row) for row in rows),
        key=lambda s: (-s[0], str(s[1].id)),
    )
    scored: list[tuple[float, object, list]] = []
    position, batch = 0, max(1, POSTS_BATCH * limit)
    while position < len(bounded):
        if len(scored) >= limit:
            scored.sort(key=lambda s: (-s[0], str(s[1].id)))
            bound, row = bounded[position]
            if (-scored[limit - 1][0], str(scored[limit - 1][1].id)) < (-bound, str(row.id)):
                break  # no candidate left can enter the answer
        chunk = [row for _, row in bounded[position: position + batch]]
        position += len(chunk)
        if reads_posts:
            await _post_evidence(session, brief, chunk, evidence)
        for row in chunk:
            total, factors = _score(brief, row, evidence[row.id], medians, weights)
            scored.append((total, row, factors))
    scored.sort(key=lambda s: (-s[0], str(s[1].id)))
    items = [
        FitCreator(**CreatorSummary.of(row).model_dump(), score=total, factors=[f.as_factor() for f in factors])
        for total, row, factors in scored[:limit]
    ]
    return BrandFitResult(items=items, weights={k: round(v, 4) for k, v in weights.items()}, candidates=len(rows))


# --- saved briefs ----------------------------------------------------------------------------


def _name_taken(name: str) -> Conflict:
    return Conflict([{"field": "body.name", "reason": f"you already have a brief named {name!r}"}])


def not_found(brief_id: uuid.UUID) -> NotFound:
    return NotFound(f"brief {brief_id} does not exist")


async def create(session: AsyncSession, data: BriefCreate) -> SavedBrief:
    if await repository.find_by_name(session, data.name):
        raise _name_taken(data.name)
    saved = SavedBrief(id=uuid.uuid4(), name=data.name, brief=data.brief.model_dump(mode="json"))
    session.add(saved)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create took the name
        raise _name_taken(data.name) from exc
    await session.refresh(saved)
    return saved


async def owned(session: AsyncSession, brief_id: uuid.UUID) -> SavedBrief:
    """The caller's brief, locked for the rest of the transaction, or 404."""
    saved = await repository.get(session, brief_id, for_update=True)
    if saved is None:
        raise not_found(brief_id)
    return saved


async def update(session: AsyncSession, brief_id: uuid.UUID, data: BriefUpdate) -> SavedBrief:
    saved = await owned(session, brief_id)
    changes = {}
    if "name" in data.model_fields_set and data.name != saved.name:
        if await repository.find_by_name(session, data.name):
            raise _name_taken(data.name)
        changes["name"] = data.name
    if "brief" in data.model_fields_set:
        brief = data.brief.model_dump(mode="json")
        if brief != saved.brief:
            changes["brief"] = brief
    if not changes:
        return saved
    for key, value in changes.items():
        setattr(saved, key, value)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _name_taken(data.name) from exc
    await session.refresh(saved)
    return saved


async def delete(session: AsyncSession, brief_id: uuid.UUID) -> None:
    await session.delete(await owned(session, brief_id))


async def run(session: AsyncSession, brief_id: uuid.UUID, limit: int) -> tuple[SavedBrief, BrandFitResult]:
    saved = await repository.get(session, brief_id)
    if saved is None:
        raise not_found(brief_id)
    return saved, await rank(session, Brief.model_validate(saved.brief, context=STORED), limit)
