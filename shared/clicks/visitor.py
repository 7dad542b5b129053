"""What a click says about its visitor, decided where the click is answered: a keyed hash of the
address (never the address), the hash of its network, why the click is never credited, the
viewer's country a CDN reports, and the visitor's group in an audience holdout.

Shared by attribution's redirect and the gateway's (docs/decisions/0061): both must hash a
visitor to the same value under the installation's key (`ATTRIBUTION_HASH_KEY`), or a visitor
would count as new on every path.

Flagged, recorded and never credited: a user agent the Crawler-Detect list knows (the
`crawlerdetect` package, a maintained Python port of JayBizzle/Crawler-Detect: Slackbot,
Twitterbot, LinkedInBot, facebookexternalhit (also iMessage's previews), WhatsApp, Discordbot,
TelegramBot, curl...), a missing user agent, a HEAD request (no browser follows a link with
HEAD), and an address in a cloud provider's published ranges (AWS, Google Cloud, Azure,
Cloudflare, DigitalOcean, Oracle: shared/clicks/datacentre.py, docs/decisions/0033).
"""

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from functools import cached_property

from crawlerdetect import CrawlerDetect

from shared.clicks import datacentre
from shared.clicks.token import derive_key

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
        self.configured = key is not None
        self._key = key or secrets.token_bytes(32)

    def __call__(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    @cached_property
    def token_key(self) -> bytes:
        """The key click ids are sealed under (shared/clicks/token.py), derived from this one with
        HKDF: no secret of its own, and nothing in common with the keyed hashes above."""
        return derive_key(self._key)


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


def holdout_group(holdout_id: uuid.UUID | None, share: float, visitor: str | None) -> str | None:
    """The visitor's group in an audience holdout: `control` for a stable share of visitors (the
    first 32 bits of SHA-256 of the holdout and the visitor's keyed hash, read as a fraction,
    below the share), `treatment` for the others; None without a holdout or a visitor (a click
    with no address cannot be kept in one group, so it is in none)."""
    if holdout_id is None or visitor is None:
        return None
    draw = int.from_bytes(hashlib.sha256(f"{holdout_id}:{visitor}".encode()).digest()[:4], "big") / 2**32
    return "control" if draw < share else "treatment"
