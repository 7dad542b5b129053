"""Clicks recorded from the click ids an order carries (docs/decisions/0061).

A redirect appends a click id that is the click, sealed (shared/clicks/token.py). When an
order brings one back and no click of that id is stored — the record never reached the database
(the redirect's process died after its 302), or it is still on its way — the click is recorded
from its id before the order is credited, by the same autocommitted call of
`attribution.record_click` as the redirect's: the same (link, visitor) lock, the same uniqueness
rule, the same row and ClickRecorded event, except what the id does not carry (the user agent,
referrer, country and network hash are unknown; the flag reason is its kind, "bot" rather than
the bot's name).

Only an id this installation made is recorded from, and only on a link of the order's own
workspace: the link is read through the tenant-bound session, so another workspace's link (or a
deleted one) is simply not found and the id matches nothing, as before. A click older than the
retention period (`CLICK_RETENTION_DAYS`) is not recorded: the retention job has stripped the
visitor data of every click that old, and a click id must not bring it back (its order is past
any attribution window anyway).
"""

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.clicks import service
from services.attribution.clicks.cache import CachedLink
from services.attribution.clicks.models import Click
from services.attribution.incrementality.models import AudienceHoldout
from services.attribution.links.models import Link
from services.attribution.config import CLICK_RETENTION_DAYS
from shared.clicks.token import ClickToken
from shared.db import utcnow


async def _holdout(session: AsyncSession, link: Link, token: ClickToken) -> AudienceHoldout | None:
    """The audience holdout that split the link's visitors on the click's day (as the redirect
    chose it: clicks/endpoints.py), when the id says the visitor was in one."""
    if token.group is None:
        return None
    day = token.clicked_at.date()
    return (await session.execute(
        select(AudienceHoldout).where(AudienceHoldout.link_ids.op("@>")(cast([link.id], AudienceHoldout.link_ids.type)),
                                      AudienceHoldout.starts_on <= day,
                                      AudienceHoldout.ends_on >= day)
        .order_by(AudienceHoldout.starts_on.desc()).limit(1))).scalar_one_or_none()


async def recover(session: AsyncSession, tokens: Sequence[ClickToken], retention_days: int = CLICK_RETENTION_DAYS) -> int:
    """Record the clicks of `tokens` (opened click ids) that are not stored and not older than
    `retention_days`; how many were. `session` is bound to the order's workspace: the link and
    its holdout are read through it. The click itself is written as the redirect writes it, by
    one autocommitted call on a connection of its own: the (link, visitor) lock it takes is not
    held for the rest of the order's transaction (a batch of a partition's messages), and the
    click stays recorded if that transaction is replayed. Recorded twice — two orders carrying the
    same click at once, or the redirect's own record arriving late — it is one row and one event
    (migration 0028)."""
    oldest = utcnow() - timedelta(days=retention_days)
    tokens = list({t.click_id: t for t in tokens if t.clicked_at >= oldest}.values())
    if not tokens:
        return 0
    stored = set((await session.execute(select(Click.id).where(Click.id.in_([t.click_id for t in tokens])))).scalars())
    recorded = 0
    for token in tokens:
        if token.click_id in stored:
            continue
        link = (await session.execute(select(Link).where(Link.id == token.link_id))).scalar_one_or_none()
        if link is None:
            continue
        holdout = await _holdout(session, link, token)
        kept = CachedLink.of(link, holdout)
        reason = token.flag_reason
        # The group as the redirect decided it, even if its holdout is no longer found: a visitor
        # held out is never credited (fail closed).
        arguments = service.arguments_of(
            kept, click_id=token.click_id, clicked_at=token.clicked_at, visitor=token.visitor_hash, network=None,
            user_agent=None, referrer=None, country=None, method="HEAD" if reason == "head request" else "GET",
            reason=reason, group=token.group)
        written = await service.on_driver(
            session.bind, "attribution.record_click", lambda driver: service.record(driver, arguments))
        recorded += written is not None
    return recorded
