"""Share links: made with a random token shown once, kept as its SHA-256 hash, found again by
the hash of the token a visitor presents (docs/decisions/0043-audit-history-share-links-appeals.md).

The token is `secrets.token_urlsafe(32)`: 256 random bits, so it cannot be guessed and needs no
slow hash; an index lookup by its SHA-256 compares hashes, never the secret, so the time a
lookup takes says nothing about how much of a guessed token was right. An unknown, expired or
revoked token is the same NotFound, word for word.
"""

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.projection.models import Creator
from services.audit.sharing import repository
from services.audit.sharing.models import ShareLink
from services.audit.sharing.schemas import ShareLinkCreate
from shared.db import Reads, utcnow
from shared.errors import NotFound
from shared.tenancy import AcrossTenants, across_tenants

TOKEN_BYTES = 32
# Deliberately the same for a token never issued, expired or revoked: the answer must not tell
# a visitor that a token it guessed or kept once existed.
NO_SUCH_LINK = "this link does not exist or no longer works"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def create(session: AsyncSession, creator_id: uuid.UUID, body: ShareLinkCreate) -> tuple[ShareLink, str]:
    """A new link to the creator's audits and its token (which is not kept)."""
    if await session.get(Creator, creator_id) is None:
        raise NotFound(f"audit holds no creator {creator_id}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink(
        creator_id=creator_id, token_hash=token_hash(token), note=body.note,
        expires_at=utcnow() + timedelta(days=body.expires_in_days),
    )
    session.add(link)
    await session.flush()
    await session.refresh(link)
    return link, token


async def revoke(session: AsyncSession, link_id: uuid.UUID) -> ShareLink:
    """The link revoked now, or when it already was (a replay changes nothing)."""
    link = (await session.execute(select(ShareLink).where(ShareLink.id == link_id).with_for_update())).scalar_one_or_none()
    if link is None:
        raise NotFound(f"share link {link_id} does not exist")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        await session.flush()
    return link


async def resolve(session: AsyncSession, token: str) -> ShareLink:
    """The live link `token` opens, found across tenants (the token carries none). The caller
    then acts for the link's tenant (`shared.tenancy.acting_for`) for anything tenant-private."""
    across_tenants(session, "a share link's public view finds the link by its token, which carries no tenant")
    link = await repository.by_token_hash(session, token_hash(token))
    if link is None or not link.live(utcnow()):
        raise NotFound(NO_SUCH_LINK)
    return link


async def resolve_read(reads: Reads, token: str) -> tuple[ShareLink, Reads]:
    """As `resolve`, through a ReadSession (each read on a pooled connection, released at once),
    and the ReadSession acting for the link's tenant, for what the caller reads next."""
    across = reads.for_tenant(AcrossTenants("a share link's public view finds the link by its token, which carries no tenant"))
    link = (await across.execute(select(ShareLink).where(ShareLink.token_hash == token_hash(token)))).scalar_one_or_none()
    if link is None or not link.live(utcnow()):
        raise NotFound(NO_SUCH_LINK)
    return link, reads.for_tenant(link.tenant_id)
