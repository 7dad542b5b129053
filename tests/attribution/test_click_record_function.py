"""attribution.record_click (migration 0025), the click redirect's one statement, held to what the
redirect's four round trips did: a click that waited for another click of the same visitor on the
same link sees it once it commits (each statement of the PL/pgSQL function has a snapshot of its
own, taken after the lock), so exactly one of them is unique; and the outbox row written is the
event version matching the row."""

import asyncio
import json
import uuid
from datetime import timedelta

import asyncpg
import pytest

from services.attribution.clicks import service
from services.attribution.clicks.cache import CachedLink
from shared.db import utcnow
from shared.clicks import token as click_token
from tests.attribution.test_click_redirect import attribution_db, link  # noqa: F401 (fixture)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


async def cached(attribution_db, made: dict) -> CachedLink:  # noqa: F811
    row = await attribution_db.fetchrow("SELECT * FROM attribution.links WHERE id = $1", uuid.UUID(made["id"]))
    return CachedLink(id=row["id"], tenant_id=row["tenant_id"], campaign_id=row["campaign_id"], creator_id=row["creator_id"],
                      slug=row["slug"], target=row["target"], expires_at=row["expires_at"], revoked_at=row["revoked_at"])


def prepared(kept: CachedLink, address: str, **kw):
    """The click's id (the one its row and event have), its group and the call's arguments."""
    hasher = service.VisitorHasher(b"k" * 32)
    carried, group, arguments = service.prepare(
        kept, method="GET", address=address, user_agent=kw.pop("user_agent", BROWSER), referrer=None, country=None,
        hasher=hasher, **kw)
    return click_token.read(hasher.token_key, carried).click_id, group, arguments


async def test_a_click_waiting_for_the_visitors_other_click_sees_it_once_committed(gateway, attribution_db, service_dsn):  # noqa: F811
    kept = await cached(attribution_db, await link(gateway))
    first_id, _, first = prepared(kept, "198.51.100.7")
    second_id, _, second = prepared(kept, "198.51.100.7")
    holder = await asyncpg.connect(service_dsn("attribution"))
    waiter = await asyncpg.connect(service_dsn("attribution"))
    try:
        # The first click's transaction is held open after the call: it holds the (link, visitor)
        # lock and its row is not committed yet.
        transaction = holder.transaction()
        await transaction.start()
        assert await service.record(holder, first) is True
        # The second call, autocommitted as the redirect makes it, waits for the lock ...
        second_call = asyncio.ensure_future(service.record(waiter, second))
        await asyncio.sleep(0.5)
        assert not second_call.done(), "the second click did not wait for the first one's lock"
        # ... and once the first commits, its check (a snapshot taken after the lock) sees it.
        await transaction.commit()
        assert await asyncio.wait_for(second_call, 10) is False
    finally:
        await holder.close()
        await waiter.close()
    rows = {r["id"]: r["is_unique"] for r in await attribution_db.fetch(
        "SELECT id, is_unique FROM attribution.clicks WHERE id = ANY($1::uuid[])", [first_id, second_id])}
    assert rows == {first_id: True, second_id: False}
    events = {r["key"]: json.loads(r["value"])["payload"]["unique"] for r in await attribution_db.fetch(
        "SELECT key, value FROM attribution.outbox WHERE key = ANY($1::text[])", [str(first_id), str(second_id)])}
    assert events == {str(first_id): True, str(second_id): False}


async def test_a_repeat_after_the_window_and_a_flagged_click_in_it(gateway, attribution_db):  # noqa: F811
    kept = await cached(attribution_db, await link(gateway))
    _, _, old = prepared(kept, "198.51.100.8")
    old[2] = utcnow() - service.REPEAT_WINDOW - timedelta(seconds=5)  # clicked_at: just outside the window
    assert await attribution_db.fetchval(service.RECORD, *old) is True
    _, _, bot = prepared(kept, "198.51.100.8", user_agent="Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")
    assert await attribution_db.fetchval(service.RECORD, *bot) is False  # flagged: never unique ...
    _, _, now = prepared(kept, "198.51.100.8")
    assert await attribution_db.fetchval(service.RECORD, *now) is True  # ... and not a repeat-maker
    _, _, again = prepared(kept, "198.51.100.8")
    assert await attribution_db.fetchval(service.RECORD, *again) is False
    _, _, nobody = prepared(kept, "")
    assert await attribution_db.fetchval(service.RECORD, *nobody) is True  # no address: unique unless flagged


async def test_a_click_recorded_twice_is_one_row_and_one_event(gateway, attribution_db):  # noqa: F811
    """Migration 0028: the redirect's record and one made from the click's id carried back by an
    order (clicks/recovery.py) may meet; the second writes nothing and says so (NULL)."""
    kept = await cached(attribution_db, await link(gateway))
    click, _, arguments = prepared(kept, "198.51.100.9")
    assert await attribution_db.fetchval(service.RECORD, *arguments) is True
    assert await attribution_db.fetchval(service.RECORD, *arguments) is None
    assert await attribution_db.fetchval("SELECT count(*) FROM attribution.clicks WHERE id = $1", click) == 1
    assert await attribution_db.fetchval("SELECT count(*) FROM attribution.outbox WHERE key = $1", str(click)) == 1
