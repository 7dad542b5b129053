"""Recording a click: who (a keyed hash of the address, never the address), with what (user
agent, referrer, country when a CDN says it), and whether it may ever be credited.

Flagged, recorded and never credited: a user agent the Crawler-Detect list knows (the
`crawlerdetect` package, a maintained Python port of JayBizzle/Crawler-Detect: Slackbot,
Twitterbot, LinkedInBot, facebookexternalhit (also iMessage's previews), WhatsApp, Discordbot,
TelegramBot, curl...), a missing user agent, and a HEAD request (no browser follows a link with
HEAD), and an address in a cloud provider's published ranges (AWS, Google Cloud, Azure, Cloudflare,
DigitalOcean, Oracle: shared/clicks/datacentre.py, docs/decisions/0033).

A repeat click by the same visitor on the same link within REPEAT_WINDOW is recorded, and not
unique. Two clicks of one visitor racing each other are ordered by a transaction-scoped
advisory lock on (link, visitor), taken by the one call that writes the click (attribution.
record_click, migration 0025), so exactly one of them is unique.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from services.attribution.db import SERVICE, outbox
from services.attribution.clicks.cache import CachedLink
from shared.clicks import token as click_token
from shared.clicks.visitor import (  # noqa: F401  (the names the redirect's callers use)
    COUNTRY_HEADERS, REFERRER_LENGTH, USER_AGENT_LENGTH, VisitorHasher, country_of, flag, holdout_group, network_of,
)
from shared.contracts.attribution import ClickRecorded
from shared.contracts.envelope import new_envelope
from shared.db import DRIVER_ERRORS, raise_as_sqlalchemy, utcnow

T = TypeVar("T")

TOPIC = "attribution.click.v1"
REPEAT_WINDOW = timedelta(minutes=30)


def group_of(link: CachedLink, visitor: str | None) -> str | None:
    """The visitor's group in the link's audience holdout (shared.clicks.visitor.holdout_group)."""
    return holdout_group(link.holdout_id, link.holdout_share, visitor)


def now_to_the_millisecond():
    """Now, to the millisecond: a click's time as its id carries it (shared/clicks/token.py), so a
    click recorded from its id has the time the redirect stored."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def prepare(
    link: CachedLink, *, method: str, address: str | None, user_agent: str | None, referrer: str | None,
    country: str | None, hasher: VisitorHasher,
) -> tuple[str, str | None, list]:
    """The click on `link` and its event, ready for `record`: the click id the redirect appends
    (the click, sealed: shared/clicks/token.py), its audience-holdout group (None outside
    a holdout) and the arguments of attribution.record_click (migration 0025)."""
    reason = flag(method, user_agent, address)
    visitor = hasher(address) if address else None
    network = network_of(address)
    network = hasher(f"network:{network}") if network else None
    # The time is taken here, not by the database's default: no read back after the insert, and
    # the repeat window is measured on the same clock.
    now = now_to_the_millisecond()
    click_id = uuid.uuid4()
    user_agent = (user_agent or None) and user_agent[:USER_AGENT_LENGTH]
    referrer = (referrer or None) and referrer[:REFERRER_LENGTH]
    group = group_of(link, visitor)
    arguments = arguments_of(
        link, click_id=click_id, clicked_at=now, visitor=visitor, network=network, user_agent=user_agent,
        referrer=referrer, country=country, method=method, reason=reason, group=group)
    carried = click_token.mint(hasher.token_key, click_token.ClickToken(
        click_id=click_id, link_id=link.id, clicked_at=now, flag=click_token.flag_kind(reason), group=group,
        visitor_hash=visitor))
    return carried, group, arguments


def arguments_of(
    link: CachedLink, *, click_id: uuid.UUID, clicked_at, visitor: str | None, network: str | None,
    user_agent: str | None, referrer: str | None, country: str | None, method: str, reason: str | None,
    group: str | None,
) -> list:
    """The arguments of attribution.record_click (migration 0025) for a click on `link`: the click
    and both versions of its ClickRecorded event, serialised here (the function decides
    uniqueness and writes the matching one)."""
    payload = ClickRecorded(
        click_id=click_id, slug=link.slug, link_id=link.id, campaign_id=link.campaign_id, creator_id=link.creator_id,
        clicked_at=clicked_at, landing_url=link.target, referrer=referrer, user_agent=user_agent,
        ip_hash=visitor, country=country, flagged=reason is not None, flag_reason=reason, unique=False,
    )
    # Keyed by the click: a click has this one event, so it needs no sequence counter, and
    # concurrent clicks on one hot link never wait for each other's counter row (docs/decisions/0033).
    event = new_envelope(event_type="ClickRecorded", producer=SERVICE, aggregate_id=str(click_id), tenant_id=link.tenant_id, payload=payload)
    repeat = outbox.sole_row(TOPIC, event)
    unique = outbox.sole_row(TOPIC, event.model_copy(update={"payload": payload.model_copy(update={"unique": True})}))
    return [
        click_id, link.tenant_id, clicked_at, link.id, link.campaign_id, link.creator_id, visitor, network, user_agent,
        referrer, country, method, reason is not None, reason, link.holdout_id if group else None, group, REPEAT_WINDOW,
        repeat["event_id"], repeat["topic"], repeat["key"], repeat["event_type"], repeat["sequence"],
        repeat["correlation_id"], unique["value"], repeat["value"],
    ]


async def on_driver(engine: AsyncEngine, label: str, call: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """`call` on the asyncpg connection of a pooled connection, outside any transaction (its one
    statement commits by itself). A driver error is raised as SQLAlchemy would raise it
    (shared.db): a database that is down or a connection lost is a 503 (shared.errors), and the
    pool drops the connection. `label` names the statement in that error, never its values.
    The redirect's path to the database (clicks/endpoints.py) and that of a click recorded from
    its id (clicks/recovery.py)."""
    async with engine.connect() as connection:
        pooled = await connection.get_raw_connection()
        try:
            return await call(pooled.driver_connection)
        except DRIVER_ERRORS as error:  # re-raised as SQLAlchemy's DBAPIError, never swallowed
            await greenlet_spawn(raise_as_sqlalchemy, connection.sync_connection, error, label, [])
            raise


# One call, one round trip, its own transaction (autocommit): the (link, visitor) lock, the
# uniqueness check under a snapshot taken after it, the click and its event (migration 0025).
RECORD = "SELECT attribution.record_click(" + ", ".join(f"${n}" for n in range(1, 26)) + ")"


async def record(connection, arguments: list) -> bool | None:
    """Write a click prepared by `prepare` on `connection` (asyncpg's, outside any transaction:
    the call is its own) and whether it was unique; None when a click of that id was recorded
    already (migration 0028: nothing written).

    Not through the ORM or a session: the click is written once and never read back, and each
    round trip, BEGIN and COMMIT cost the service more CPU than PostgreSQL's work (docs/decisions/
    0059). The rows carry the link's tenant."""
    return await connection.fetchval(RECORD, *arguments)
