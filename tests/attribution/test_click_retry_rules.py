"""When the redirect sends a statement again (docs/decisions/0059): the link lookup, a read, once
more when the pooled connection it went out on turned out dead; not when no connection could be
made (the database is down: a 503 at once, not two connection attempts); and the click's call
never, whatever happened to its connection — a call whose connection died may have committed,
and a second one would be a second click with a new id.

The database is replaced by a fake at `on_driver`, the one place the redirect meets it (the
real failures are in test_click_outage.py): what is counted here is how often each statement
is sent."""

import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import DBAPIError

from services.attribution.clicks import endpoints

pytestmark = pytest.mark.asyncio

LOOKUP, RECORD = "attribution.links by slug", "attribution.record_click"
HEADERS = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "x-forwarded-for": "203.0.113.7"}


def _lost() -> DBAPIError:
    return DBAPIError("", [], ConnectionResetError("connection reset"), connection_invalidated=True)


def _row(slug: str) -> dict:
    return {
        "id": uuid.uuid4(), "tenant_id": uuid.uuid4(), "campaign_id": uuid.uuid4(), "creator_id": uuid.uuid4(),
        "slug": slug, "target": "https://shop.example/p", "destination": "https://shop.example/p",
        "expires_at": None, "revoked_at": None, "holdout_id": None, "holdout_share": None, "control_destination": None,
    }


class FakeDatabase:
    """`on_driver` over a script: per label, what each attempt does — "ok", "dead" (the statement
    went out, and the pooled connection under it broke) or "refused" (no connection could be
    made). `sent` lists the statements that went out."""

    def __init__(self, slug: str, **script: list[str]):
        self.slug, self.script, self.sent = slug, script, []

    async def on_driver(self, engine, label, call):
        outcome = self.script[label].pop(0)
        if outcome == "refused":
            raise _lost()
        self.sent.append(label)
        answer = await call(SimpleNamespace(fetchrow=self._fetchrow, fetchval=self._fetchval))
        if outcome == "dead":
            raise _lost()
        return answer

    async def _fetchrow(self, sql, slug, day):
        return _row(slug)

    async def _fetchval(self, sql, *arguments):
        return True


def _app():
    settings = SimpleNamespace(attribution_hash_key=None)
    return SimpleNamespace(state=SimpleNamespace(ctx=SimpleNamespace(engine=object(), settings=settings)))


async def _follow(monkeypatch, database: FakeDatabase):
    monkeypatch.setattr(endpoints, "on_driver", database.on_driver)
    return await endpoints.follow(_app(), "GET", HEADERS, database.slug)


def _slug() -> str:
    return f"retry{uuid.uuid4().hex[:12]}"


async def test_a_lookup_sent_on_a_dead_pooled_connection_is_sent_once_more(monkeypatch):
    database = FakeDatabase(_slug(), **{LOOKUP: ["dead", "ok"], RECORD: ["ok"]})
    response = await _follow(monkeypatch, database)
    assert response.status_code == 302
    assert database.sent == [LOOKUP, LOOKUP, RECORD]


async def test_a_lookup_that_found_no_connection_is_not_tried_again(monkeypatch):
    database = FakeDatabase(_slug(), **{LOOKUP: ["refused", "ok"], RECORD: ["ok"]})
    with pytest.raises(DBAPIError):
        await _follow(monkeypatch, database)
    assert database.sent == [] and database.script[LOOKUP] == ["ok"]


async def test_a_lookup_dead_twice_gives_up(monkeypatch):
    database = FakeDatabase(_slug(), **{LOOKUP: ["dead", "dead", "ok"], RECORD: ["ok"]})
    with pytest.raises(DBAPIError):
        await _follow(monkeypatch, database)
    assert database.sent == [LOOKUP, LOOKUP]


async def test_the_click_is_never_sent_twice(monkeypatch):
    database = FakeDatabase(_slug(), **{LOOKUP: ["ok"], RECORD: ["dead", "ok"]})
    with pytest.raises(DBAPIError):
        await _follow(monkeypatch, database)
    assert database.sent == [LOOKUP, RECORD] and database.script[RECORD] == ["ok"]
