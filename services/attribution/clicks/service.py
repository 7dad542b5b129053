"""Recording a click: who (a keyed hash of the address, never the address), with what (user
agent, referrer, country when a CDN says it), and whether it may ever be credited.

Flagged, recorded and never credited: a user agent the Crawler-Detect list knows (the
`crawlerdetect` package, a maintained Python port of JayBizzle/Crawler-Detect: Slackbot,
Twitterbot, LinkedInBot, facebookexternalhit (also iMessage's previews), WhatsApp, Discordbot,
TelegramBot, curl...), a missing user agent, and a HEAD request (no browser follows a link with
HEAD). Data-centre address ranges are not checked: we found no maintained, licensable list to
pin (docs/decisions/0033).

A repeat click by the same visitor on the same link within REPEAT_WINDOW is recorded, and not
unique. Two clicks of one visitor racing each other are ordered by a transaction-scoped
advisory lock on (link, visitor), so exactly one of them is unique.
"""

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from crawlerdetect import CrawlerDetect
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.clicks.models import Click
from services.attribution.db import SERVICE, outbox
from services.attribution.links.models import Link
from shared.contracts.attribution import ClickRecorded
from shared.contracts.envelope import new_envelope
from shared.db import utcnow

TOPIC = "attribution.click.v1"
REPEAT_WINDOW = timedelta(minutes=30)
USER_AGENT_LENGTH = 512
REFERRER_LENGTH = 2048
# Headers a CDN in front of the gateway sets to the viewer's country (ISO 3166-1 alpha-2).
COUNTRY_HEADERS = ("cf-ipcountry", "cloudfront-viewer-country")

# One detector per process: building it compiles the whole list into one regular expression.
_DETECTOR = CrawlerDetect()


class VisitorHasher:
    """HMAC-SHA256 under the installation's key, hex. Without a key configured, a random one
    for this process: hashes still never reveal the address, but the same visitor on another
    replica (or after a restart) is a new visitor."""

    def __init__(self, key: bytes | None):
        self._key = key or secrets.token_bytes(32)

    def __call__(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()


def flag(method: str, user_agent: str | None) -> str | None:
    """Why the click is never credited, or None."""
    if method == "HEAD":
        return "head request"
    if not user_agent:
        return "no user agent"
    if _DETECTOR.isCrawler(user_agent):
        return f"bot: {_DETECTOR.getMatches()}"[:100]
    return None


def country_of(headers) -> str | None:
    for name in COUNTRY_HEADERS:
        value = (headers.get(name) or "").strip().upper()
        if len(value) == 2 and value.isalpha() and value != "XX":
            return value
    return None


async def record(
    session: AsyncSession, link: Link, *, method: str, address: str | None, user_agent: str | None,
    referrer: str | None, country: str | None, hasher: VisitorHasher,
) -> Click:
    """Write the click (and its event, through the outbox) in the caller's transaction."""
    reason = flag(method, user_agent)
    visitor = hasher(address) if address else None
    # The time is taken here, not by the database's default: no read back after the insert (one
    # round trip fewer before the 302), and the repeat window is measured on the same clock.
    now = utcnow()
    unique = reason is None
    if unique and visitor is not None:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"click:{link.id}:{visitor}"}
        )
        repeat = await session.scalar(
            select(func.count()).select_from(Click).where(
                Click.link_id == link.id, Click.visitor_hash == visitor, Click.flagged.is_(False),
                Click.clicked_at > now - REPEAT_WINDOW,
            )
        )
        unique = repeat == 0
    click = Click(
        id=uuid.uuid4(), tenant_id=link.tenant_id, clicked_at=now, link_id=link.id, campaign_id=link.campaign_id, creator_id=link.creator_id,
        visitor_hash=visitor, user_agent=(user_agent or None) and user_agent[:USER_AGENT_LENGTH],
        referrer=(referrer or None) and referrer[:REFERRER_LENGTH], country=country, method=method,
        flagged=reason is not None, flag_reason=reason, is_unique=unique,
    )
    session.add(click)
    payload = ClickRecorded(
        click_id=click.id, slug=link.slug, link_id=link.id, campaign_id=link.campaign_id, creator_id=link.creator_id,
        clicked_at=click.clicked_at, landing_url=link.target, referrer=click.referrer, user_agent=click.user_agent,
        ip_hash=visitor, country=country, flagged=click.flagged, flag_reason=reason, unique=unique,
    )
    event = new_envelope(event_type="ClickRecorded", producer=SERVICE, aggregate_id=str(link.id), tenant_id=link.tenant_id, payload=payload)
    await outbox.add(session, TOPIC, event)
    return click
