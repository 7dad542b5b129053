"""Recording a click: who (a keyed hash of the address, never the address), with what (user
agent, referrer, country when a CDN says it), and whether it may ever be credited.

Flagged, recorded and never credited: a user agent the Crawler-Detect list knows (the
`crawlerdetect` package, a maintained Python port of JayBizzle/Crawler-Detect: Slackbot,
Twitterbot, LinkedInBot, facebookexternalhit (also iMessage's previews), WhatsApp, Discordbot,
TelegramBot, curl...), a missing user agent, and a HEAD request (no browser follows a link with
HEAD), and an address in a cloud provider's published ranges (AWS, Google Cloud, Azure, Cloudflare,
DigitalOcean, Oracle: clicks/datacentre.py, docs/decisions/0033).

A repeat click by the same visitor on the same link within REPEAT_WINDOW is recorded, and not
unique. Two clicks of one visitor racing each other are ordered by a transaction-scoped
advisory lock on (link, visitor), taken by the one call that writes the click (attribution.
record_click, migration 0025), so exactly one of them is unique.
"""

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from datetime import timedelta

from crawlerdetect import CrawlerDetect
from services.attribution.clicks import datacentre
from services.attribution.db import SERVICE, outbox
from services.attribution.clicks.cache import CachedLink
from shared.contracts.attribution import ClickRecorded
from shared.contracts.envelope import new_envelope
from shared.db import utcnow

TOPIC = "attribution.click.v1"
REPEAT_WINDOW = timedelta(minutes=30)
USER_AGENT_LENGTH = 512
REFERRER_LENGTH = 2048
# Headers a CDN in front of the gateway sets to the viewer's country (ISO 3166-1 alpha-2).
COUNTRY_HEADERS = ("cf-ipcountry", "cloudfront-viewer-country")

# One detector per process. Its list is compiled into one regular expression on the first
# question, asked here so that no click pays for it.
_DETECTOR = CrawlerDetect()
_DETECTOR.isCrawler("Mozilla/5.0")


class VisitorHasher:
    """HMAC-SHA256 under the installation's key, hex. Without a key configured, a random one
    for this process: hashes still never reveal the address, but the same visitor on another
    replica (or after a restart) is a new visitor."""

    def __init__(self, key: bytes | None):
        self._key = key or secrets.token_bytes(32)

    def __call__(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()


def network_of(address: str | None) -> str | None:
    """The address's /24 (IPv4) or /48 (IPv6) network, as text; None for no or no valid address.
    Hashed before it is stored (`network_hash`): the click-burst rule counts clicks per network."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def flag(method: str, user_agent: str | None, address: str | None = None) -> str | None:
    """Why the click is never credited, or None."""
    if method == "HEAD":
        return "head request"
    if not user_agent:
        return "no user agent"
    if _DETECTOR.isCrawler(user_agent):
        return f"bot: {_DETECTOR.getMatches()}"[:100]
    provider = datacentre.provider_of(address)
    if provider:
        return f"data centre: {provider}"[:100]
    return None


def country_of(headers) -> str | None:
    for name in COUNTRY_HEADERS:
        value = (headers.get(name) or "").strip().upper()
        if len(value) == 2 and value.isalpha() and value != "XX":
            return value
    return None


def group_of(link: CachedLink, visitor: str | None) -> str | None:
    """The visitor's group in the link's audience holdout: `control` for a stable share of
    visitors (the first 32 bits of SHA-256 of the holdout and the visitor's keyed hash, read as a
    fraction, below the share), `treatment` for the others; None without a holdout or a visitor
    (a click with no address cannot be kept in one group, so it is in none)."""
    if link.holdout_id is None or visitor is None:
        return None
    draw = int.from_bytes(hashlib.sha256(f"{link.holdout_id}:{visitor}".encode()).digest()[:4], "big") / 2**32
    return "control" if draw < link.holdout_share else "treatment"


def prepare(
    link: CachedLink, *, method: str, address: str | None, user_agent: str | None, referrer: str | None,
    country: str | None, hasher: VisitorHasher,
) -> tuple[uuid.UUID, str | None, list]:
    """The click on `link` and its event, ready for `record`: its id, its audience-holdout group
    (None outside a holdout) and the arguments of attribution.record_click (migration 0025)."""
    reason = flag(method, user_agent, address)
    visitor = hasher(address) if address else None
    network = network_of(address)
    network = hasher(f"network:{network}") if network else None
    # The time is taken here, not by the database's default: no read back after the insert, and
    # the repeat window is measured on the same clock.
    now = utcnow()
    click_id = uuid.uuid4()
    user_agent = (user_agent or None) and user_agent[:USER_AGENT_LENGTH]
    referrer = (referrer or None) and referrer[:REFERRER_LENGTH]
    group = group_of(link, visitor)
    payload = ClickRecorded(
        click_id=click_id, slug=link.slug, link_id=link.id, campaign_id=link.campaign_id, creator_id=link.creator_id,
        clicked_at=now, landing_url=link.target, referrer=referrer, user_agent=user_agent,
        ip_hash=visitor, country=country, flagged=reason is not None, flag_reason=reason, unique=False,
    )
    # Keyed by the click: a click has this one event, so it needs no sequence counter, and
    # concurrent clicks on one hot link never wait for each other's counter row (docs/decisions/0033).
    event = new_envelope(event_type="ClickRecorded", producer=SERVICE, aggregate_id=str(click_id), tenant_id=link.tenant_id, payload=payload)
    # Both versions of the event, serialised here: the function decides uniqueness and writes
    # the matching one.
    repeat = outbox.sole_row(TOPIC, event)
    unique = outbox.sole_row(TOPIC, event.model_copy(update={"payload": payload.model_copy(update={"unique": True})}))
    arguments = [
        click_id, link.tenant_id, now, link.id, link.campaign_id, link.creator_id, visitor, network, user_agent,
        referrer, country, method, reason is not None, reason, link.holdout_id if group else None, group, REPEAT_WINDOW,
        repeat["event_id"], repeat["topic"], repeat["key"], repeat["event_type"], repeat["sequence"],
        repeat["correlation_id"], unique["value"], repeat["value"],
    ]
    return click_id, group, arguments


# One call, one round trip, its own transaction (autocommit): the (link, visitor) lock, the
# uniqueness check under a snapshot taken after it, the click and its event (migration 0025).
RECORD = "SELECT attribution.record_click(" + ", ".join(f"${n}" for n in range(1, 26)) + ")"


async def record(connection, arguments: list) -> bool:
    """Write a click prepared by `prepare` on `connection` (asyncpg's, outside any transaction:
    the call is its own) and whether it was unique.

    Not through the ORM or a session: the click is written once and never read back, and each
    round trip, BEGIN and COMMIT cost the service more CPU than PostgreSQL's work (docs/decisions/
    0059). The rows carry the link's tenant."""
    return await connection.fetchval(RECORD, *arguments)
