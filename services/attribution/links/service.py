"""Tracked link rules: only for a creator enrolled in a campaign that has not ended; a slug of 96
random bits (unguessable, unique installation-wide); the destination's own UTM parameters win
over ours; a revoked link is kept, and its slug is never given out again."""

import re
import secrets
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.clicks import cache
from services.attribution.codes.service import enrolled_in_open_campaign
from services.attribution.links import repository
from services.attribution.links.models import Link
from services.attribution.links.schemas import LinkCreate, LinkUpdate
from services.attribution.links.url import with_parameters
from shared.db import utcnow
from shared.errors import Conflict, NotFound

# 12 random bytes from the OS's CSPRNG (secrets), base64url: 16 characters, 96 bits. A guesser
# making a billion tries a second against a million live links expects to wait about 2.5 million
# years for one hit (2**96 / 10**6 / 10**9 s). Well above the brief's 64 bits, still short to type.
SLUG_BYTES = 12
# A collision of 96-bit slugs is as good as impossible; the retry is there so that it would be a
# new slug, never a 500.
SLUG_TRIES = 3


# Every character new_slug gives out (base64url): a slug with any other cannot be a link's, and is
# refused before the database is asked (a NUL, which PostgreSQL text cannot hold, would be a 500).
SLUG_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")


def new_slug() -> str:
    return secrets.token_urlsafe(SLUG_BYTES)


async def create(session: AsyncSession, data: LinkCreate) -> Link:
    campaign = await enrolled_in_open_campaign(session, data.campaign_id, data.creator_id)
    utm = {k: v for k, v in data.utm.model_dump().items() if v is not None}
    utm.setdefault("utm_campaign", campaign.name)
    columns = dict(
        campaign_id=data.campaign_id, creator_id=data.creator_id, destination=data.destination, utm=utm,
        target=with_parameters(data.destination, utm), window_days=data.window_days, expires_at=data.expires_at,
        platform=data.platform.value if data.platform else None,
    )
    for _ in range(SLUG_TRIES):
        link = Link(id=uuid.uuid4(), slug=new_slug(), **columns)
        try:
            async with session.begin_nested():
                session.add(link)
                await session.flush()
        except IntegrityError:
            continue
        await session.refresh(link)
        return link
    raise Conflict([{"field": "body", "reason": "no free slug was found; try again"}])


async def owned(session: AsyncSession, link_id: uuid.UUID) -> Link:
    link = await repository.get(session, link_id, for_update=True)
    if link is None:
        raise NotFound(f"link {link_id} does not exist")
    return link


async def update(session: AsyncSession, link_id: uuid.UUID, data: LinkUpdate) -> Link:
    link = await owned(session, link_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(link, k) != v}
    if not changes:
        return link
    if link.revoked_at is not None:
        raise Conflict([{"field": "path.link_id", "reason": f"link {link.slug} is revoked; a revoked link cannot change"}])
    for key, value in changes.items():
        setattr(link, key, value)
    # The redirect's copy of the link (its expiry) is stale once this commits.
    cache.links.forget_after_commit(session, link.slug)
    await session.flush()
    await session.refresh(link)
    return link


async def revoke(session: AsyncSession, link_id: uuid.UUID) -> Link:
    """Revoke the link (again: nothing changes): /r/{slug} answers 404 from now on."""
    link = await owned(session, link_id)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        cache.links.forget_after_commit(session, link.slug)
        await session.flush()
        await session.refresh(link)
    return link
