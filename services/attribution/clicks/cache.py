"""The redirect's memory of the links it served: a hot link is looked up once a second per
process, not once per click.

What a click needs of its link (ids, slug, target, expiry, revocation) is kept for at most
`LINK_CACHE_SECONDS`. Expiry is still checked on every click against the kept `expires_at`, so
a link stops at its expiry to the instant. A revocation or a new expiry made on this process drops
the entry once its transaction commits (`forget_after_commit`): the next click here reads the
link again. Made on another replica, it reaches this one when the entry ages out: **at most
`LINK_CACHE_SECONDS` after the change committed, every replica refuses the link** (docs/decisions/
0033). Unknown slugs are not kept: a link made a moment ago works on its first click.
"""

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.links.models import Link

LINK_CACHE_SECONDS = 1.0
# A bound on memory, not a tuning knob: far more links than are clicked in any one second.
LINK_CACHE_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class CachedLink:
    """What the redirect and the click need of a link, detached from any session."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    campaign_id: uuid.UUID
    creator_id: uuid.UUID
    slug: str
    target: str
    expires_at: datetime | None
    revoked_at: datetime | None
    # The audience holdout splitting the link's visitors today, if any (incrementality/audience.py).
    holdout_id: uuid.UUID | None = None
    holdout_share: float = 0.0
    control_target: str | None = None

    @classmethod
    def of(cls, link: Link, holdout=None) -> "CachedLink":
        return cls(
            id=link.id, tenant_id=link.tenant_id, campaign_id=link.campaign_id, creator_id=link.creator_id,
            slug=link.slug, target=link.target, expires_at=link.expires_at, revoked_at=link.revoked_at,
            holdout_id=holdout.id if holdout is not None else None,
            holdout_share=float(holdout.holdout_share) if holdout is not None else 0.0,
            control_target=(holdout.control_destination or link.destination) if holdout is not None else None,
        )

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class LinkCache:
    """slug -> CachedLink, each entry kept `ttl` seconds (monotonic clock), oldest dropped first
    beyond `entries`. One per process; the event loop is its only user, so no lock."""

    def __init__(self, ttl: float = LINK_CACHE_SECONDS, entries: int = LINK_CACHE_ENTRIES):
        self.ttl = ttl
        self.entries = entries
        self._kept: OrderedDict[str, tuple[float, CachedLink]] = OrderedDict()

    def get(self, slug: str) -> CachedLink | None:
        kept = self._kept.get(slug)
        if kept is None:
            return None
        until, link = kept
        if time.monotonic() >= until:
            del self._kept[slug]
            return None
        return link

    def put(self, link: CachedLink) -> None:
        self._kept.pop(link.slug, None)
        self._kept[link.slug] = (time.monotonic() + self.ttl, link)
        while len(self._kept) > self.entries:
            self._kept.popitem(last=False)

    def forget(self, slug: str) -> None:
        self._kept.pop(slug, None)

    def forget_after_commit(self, session: AsyncSession, slug: str) -> None:
        """Drop `slug` once `session`'s transaction commits: dropped earlier, a click between the
        drop and the commit would keep the old row again."""
        event.listen(session.sync_session, "after_commit", lambda _session: self.forget(slug), once=True)


# One per process: the redirect fills it, the links' write endpoints empty it.
links = LinkCache()
