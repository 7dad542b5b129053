"""The click redirect while attribution's database cannot be reached: answered at the edge,
outside FastAPI's handlers (docs/decisions/0059), it must still give the project's 503 with
Retry-After — never a 500, never a redirect without its click — and a link it already knows
to be revoked is still a 404 without asking the database."""

import logging
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import greenlet_spawn

from services.attribution.clicks import cache
from services.attribution.clicks.cache import CachedLink
from services.attribution.config import AttributionSettings
from services.attribution.main import create_app
from shared.db import raise_as_sqlalchemy, utcnow
from shared.errors import database_unavailable

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# Nothing listens on port 1 of the loopback: every connection is refused at once.
UNREACHABLE = "postgresql+asyncpg://limelight_attribution:x@127.0.0.1:1/limelight"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def _kept(slug: str, **changes) -> CachedLink:
    values = {"expires_at": None, "revoked_at": None} | changes
    return CachedLink(
        id=uuid.uuid4(), tenant_id=uuid.uuid4(), campaign_id=uuid.uuid4(), creator_id=uuid.uuid4(),
        slug=slug, target="https://shop.example/p", **values,
    )


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors_log():
    """What shared.errors logs (the app's own logging set-up replaces the root's handlers, so
    pytest's caplog would hear nothing)."""
    handler, logger = Records(), logging.getLogger("shared.errors")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


@pytest.fixture(autouse=True)
def kept_long(monkeypatch):
    # A kept link lives a second (clicks/cache.py); a slow start must not age these out.
    monkeypatch.setattr(cache.links, "ttl", 600.0)


async def _clicks(platform, *slugs: str, method: str = "GET", kept: tuple[CachedLink, ...] = ()) -> list[httpx.Response]:
    """`slugs` followed on an attribution whose database refuses every connection, `kept` put in
    its memory of links once it has started."""
    env = platform.service_env("attribution")
    settings = AttributionSettings(
        database_url=UNREACHABLE, kafka_bootstrap_servers=platform.s.kafka_bootstrap,
        identity_public_key=env["IDENTITY_PUBLIC_KEY"], run_background_workers=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://attribution"
    ) as client:
        for link in kept:
            cache.links.put(link)
        return [
            await client.request(method, f"/r/{slug}", headers={"User-Agent": BROWSER, "X-Forwarded-For": "203.0.113.9"})
            for slug in slugs
        ]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_slug_not_kept_while_the_database_is_down_is_503(platform, method, errors_log):
    [response] = await _clicks(platform, f"down{uuid.uuid4().hex[:10]}", method=method)
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    if method == "GET":
        assert response.json()["error"] == "unavailable"
        assert "postgresql" not in response.text.lower() and "127.0.0.1" not in response.text
    # One short line naming the failure's type; never the driver's message (it names the server).
    [logged] = [r for r in errors_log if r.getMessage() == "request failed: database unavailable"]
    assert logged.exc_info is None and logged.cause and logged.path.startswith("/r/")
    assert not any("127.0.0.1" in str(r.__dict__) or "refused" in str(r.__dict__).lower() for r in errors_log)


async def test_a_kept_live_link_is_503_when_its_click_cannot_be_written(platform):
    """No 302 without the click committed: the visitor retries instead of landing uncounted."""
    slug = f"live{uuid.uuid4().hex[:10]}"
    [response] = await _clicks(platform, slug, kept=(_kept(slug),))
    assert response.status_code == 503, response.text
    assert "location" not in response.headers


async def test_a_kept_revoked_or_expired_link_is_404_without_the_database(platform):
    revoked, expired = f"rev{uuid.uuid4().hex[:10]}", f"exp{uuid.uuid4().hex[:10]}"
    kept = (_kept(revoked, revoked_at=utcnow()), _kept(expired, expires_at=utcnow() - timedelta(seconds=1)))
    responses = await _clicks(platform, revoked, expired, kept=kept)
    assert [r.status_code for r in responses] == [404, 404], [r.text for r in responses]
    assert all("does not work any more" in r.text for r in responses)


async def test_a_socket_broken_under_the_driver_is_a_lost_connection(attribution_engine):
    """asyncpg raises its own errors for most failures, but a reset socket or a command timeout
    reaches the click path as an OSError, which SQLAlchemy's adapter does not translate:
    raise_as_sqlalchemy makes it the DBAPIError of a database that is unavailable (a 503)."""
    async with attribution_engine.connect() as connection:
        await connection.get_raw_connection()
        with pytest.raises(DBAPIError) as raised:
            await greenlet_spawn(
                raise_as_sqlalchemy, connection.sync_connection, ConnectionResetError(104, "Connection reset by peer"),
                "attribution.record_click", [],
            )
    assert database_unavailable(raised.value), repr(raised.value)
    assert isinstance(raised.value.orig.__cause__, ConnectionResetError)
