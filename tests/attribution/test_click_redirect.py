"""The click redirect through the gateway, with no credentials: a 302 to the destination with its
UTMs and ll_click=<click id>, the click written before the answer (with a keyed hash of the
address, never the address), bots, link-preview fetchers and HEAD flagged, a repeat within 30
minutes not unique, the small 404 page for an unknown, revoked or expired slug, and
ClickRecorded on attribution.click.v1."""

import asyncio
import functools
import json
import uuid
from urllib.parse import parse_qsl, urlsplit

import asyncpg
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer

from runtime.keys import installation_keys
from shared.clicks import token as click_token
from shared.clicks.visitor import VisitorHasher
from tests.attribution.test_codes import enrolled
from tests.conftest import TEST_STATE
from tests.attribution.test_links import LINKS, make

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"


@pytest_asyncio.fixture(scope="session")
async def attribution_db(service_dsn):
    pool = await asyncpg.create_pool(service_dsn("attribution"), min_size=1, max_size=2)
    yield pool
    await pool.close()


async def link(gateway, **body) -> dict:
    return await make(gateway, *(await enrolled(gateway)), **body)


async def click(anonymous, slug: str, method: str = "GET", **headers):
    return await anonymous.request(method, f"/r/{slug}", headers={"User-Agent": BROWSER, **headers}, follow_redirects=False)


def click_id(response) -> str:
    """The click id the redirect appended, as an order carries it back (the click, sealed: shared/clicks/token.py)."""
    return dict(parse_qsl(urlsplit(response.headers["location"]).query))["ll_click"]


@functools.cache
def token_key() -> bytes:
    """The test installation's click-id key (shared/clicks/token.py), from its hash key."""
    return VisitorHasher(installation_keys(TEST_STATE).attribution_hash_key.encode()).token_key


def clicked(carried: str) -> uuid.UUID:
    """The id of the click row a click id the redirect appended names (it is sealed: opened with
    the installation's key)."""
    token = click_token.read(token_key(), carried)
    assert token is not None, f"{carried!r} is not a click id this installation made"
    return token.click_id


async def test_a_click_redirects_with_utms_and_a_click_id_and_is_written_first(gateway, anonymous, attribution_db):
    made = await link(gateway, destination="https://shop.example/serum?utm_source=newsletter#top")
    response = await click(anonymous, made["slug"], Referer="https://www.instagram.com/", **{"CF-IPCountry": "fr"})
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    query = dict(parse_qsl(location.query))
    assert location.netloc == "shop.example" and location.fragment == "top"
    assert query["utm_source"] == "newsletter" and query["utm_medium"] == "influencer"
    # Read straight after the 302, with no waiting: the row was committed before it was sent.
    row = await attribution_db.fetchrow("SELECT * FROM attribution.clicks WHERE id = $1", clicked(query["ll_click"]))
    assert row is not None and str(row["link_id"]) == made["id"]
    assert row["referrer"] == "https://www.instagram.com/" and row["country"] == "FR" and row["user_agent"] == BROWSER
    assert not row["flagged"] and row["is_unique"] and row["method"] == "GET"


async def test_the_address_is_stored_only_as_a_keyed_hash(gateway, anonymous, attribution_db):
    made = await link(gateway)
    response = await click(anonymous, made["slug"])
    row = await attribution_db.fetchrow("SELECT * FROM attribution.clicks WHERE id = $1", clicked(click_id(response)))
    assert len(row["visitor_hash"]) == 64 and int(row["visitor_hash"], 16) >= 0
    stored = " ".join(str(v) for v in row.values())
    assert "127.0.0.1" not in stored and "::1" not in stored


async def test_a_repeat_click_within_30_minutes_is_recorded_but_not_unique(gateway, anonymous, attribution_db):
    made = await link(gateway)
    first, second = await click(anonymous, made["slug"]), await click(anonymous, made["slug"])
    assert first.status_code == second.status_code == 302 and click_id(first) != click_id(second)
    rows = await attribution_db.fetch(
        "SELECT is_unique, visitor_hash FROM attribution.clicks WHERE link_id = $1 ORDER BY clicked_at", uuid.UUID(made["id"])
    )
    assert [r["is_unique"] for r in rows] == [True, False] and rows[0]["visitor_hash"] == rows[1]["visitor_hash"]


async def test_the_same_visitor_on_another_link_is_unique_there(gateway, anonymous, attribution_db):
    a, b = await link(gateway), await link(gateway)
    await click(anonymous, a["slug"])
    response = await click(anonymous, b["slug"])
    row = await attribution_db.fetchrow("SELECT is_unique FROM attribution.clicks WHERE id = $1", clicked(click_id(response)))
    assert row["is_unique"]


@pytest.mark.parametrize(
    "agent",
    [
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Twitterbot/1.0",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "facebookexternalhit/1.1 Facebot Twitterbot/1.0",  # iMessage's link previews
        "WhatsApp/2.23.20.0",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "TelegramBot (like TwitterBot)",
        "curl/8.4.0",
        "",
    ],
)
async def test_bots_and_preview_fetchers_are_redirected_but_flagged(gateway, anonymous, attribution_db, agent):
    made = await link(gateway)
    response = await click(anonymous, made["slug"], **{"User-Agent": agent})
    assert response.status_code == 302
    row = await attribution_db.fetchrow("SELECT * FROM attribution.clicks WHERE id = $1", clicked(click_id(response)))
    assert row["flagged"] and not row["is_unique"] and row["flag_reason"], dict(row)


async def test_a_flagged_preview_does_not_make_the_next_human_click_a_repeat(gateway, anonymous, attribution_db):
    made = await link(gateway)
    await click(anonymous, made["slug"], **{"User-Agent": "Slackbot-LinkExpanding 1.0"})
    response = await click(anonymous, made["slug"])
    row = await attribution_db.fetchrow("SELECT is_unique FROM attribution.clicks WHERE id = $1", clicked(click_id(response)))
    assert row["is_unique"]


async def test_a_head_request_is_recorded_flagged_and_still_redirected(gateway, anonymous, attribution_db):
    made = await link(gateway)
    response = await click(anonymous, made["slug"], method="HEAD")
    assert response.status_code == 302
    row = await attribution_db.fetchrow("SELECT * FROM attribution.clicks WHERE id = $1", clicked(click_id(response)))
    assert row["method"] == "HEAD" and row["flagged"] and row["flag_reason"] == "head request"


async def test_unknown_revoked_and_expired_slugs_get_the_404_page(gateway, anonymous, attribution_db):
    revoked, expired = await link(gateway), await link(gateway)
    await gateway.post(f"{LINKS}/{revoked['id']}/revoke")
    await gateway.patch(f"{LINKS}/{expired['id']}", json={"expires_at": "2020-01-01T00:00:00Z"})
    for slug in ("NoSuchSlug000000", revoked["slug"], expired["slug"]):
        response = await click(anonymous, slug)
        assert response.status_code == 404 and response.headers["content-type"].startswith("text/html"), response.text
        assert "does not work any more" in response.text and "location" not in response.headers
    count = await attribution_db.fetchval(
        "SELECT count(*) FROM attribution.clicks WHERE link_id = ANY($1::uuid[])", [uuid.UUID(revoked["id"]), uuid.UUID(expired["id"])]
    )
    assert count == 0


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_slug_no_link_could_have_gets_the_404_page_not_a_500(anonymous, method):
    """Found by fuzzing /r/: a NUL in the slug (PostgreSQL text cannot hold one) was a 500. A slug
    with a character new_slug never gives out is answered without asking the database."""
    for raw in ("%00abc", "abc%00", "%C3%A9t%C3%A9", "a%e9b", "a%20b", "a.b", "%7Eabc", "a%2Bb"):
        response = await anonymous.request(method, f"/r/{raw}", headers={"User-Agent": BROWSER}, follow_redirects=False)
        assert response.status_code == 404, (raw, response.status_code, response.text)
        if method == "GET":
            assert "does not work any more" in response.text


async def test_a_click_is_published_on_attribution_click_v1(platform, gateway, anonymous):
    made = await link(gateway)
    response = await click(anonymous, made["slug"], **{"User-Agent": "Twitterbot/1.0"})
    consumer = AIOKafkaConsumer(
        "attribution.click.v1", bootstrap_servers=platform.s.kafka_bootstrap, auto_offset_reset="earliest",
        group_id=f"test.clicks-{uuid.uuid4().hex[:8]}", enable_auto_commit=False,
    )
    await consumer.start()
    found: list[dict] = []
    try:
        async with asyncio.timeout(30):
            while not found:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    # Keyed by the click, not the link: one hot link's clicks spread over partitions.
                    found += [json.loads(r.value) for r in records if r.key == str(clicked(click_id(response))).encode()]
    finally:
        await consumer.stop()
    [event] = found
    payload = event["payload"]
    assert event["event_type"] == "ClickRecorded" and payload["click_id"] == str(clicked(click_id(response)))
    assert event["aggregate_id"] == str(clicked(click_id(response))) and event["sequence"] == 1 and payload["link_id"] == made["id"]
    assert payload["slug"] == made["slug"] and payload["flagged"] is True and payload["unique"] is False
    assert "127.0.0.1" not in json.dumps(event)


async def test_clicks_of_one_visitor_racing_make_exactly_one_unique(gateway, anonymous, attribution_db):
    made = await link(gateway)
    answers = await asyncio.gather(*(click(anonymous, made["slug"]) for _ in range(8)))
    assert {r.status_code for r in answers} == {302}
    uniques = await attribution_db.fetchval(
        "SELECT count(*) FILTER (WHERE is_unique) FROM attribution.clicks WHERE link_id = $1", uuid.UUID(made["id"])
    )
    assert uniques == 1


async def test_a_link_kept_by_the_redirect_is_refused_once_revoked(gateway, anonymous, attribution_db):
    # The first click puts the link in the redirect's cache (clicks/cache.py); the revocation,
    # made on the same process, drops it when it commits: no waiting for the entry to age out.
    made = await link(gateway)
    assert (await click(anonymous, made["slug"])).status_code == 302
    assert (await gateway.post(f"{LINKS}/{made['id']}/revoke")).status_code == 200
    response = await click(anonymous, made["slug"])
    assert response.status_code == 404 and "does not work any more" in response.text
    count = await attribution_db.fetchval("SELECT count(*) FROM attribution.clicks WHERE link_id = $1", uuid.UUID(made["id"]))
    assert count == 1


async def test_a_link_kept_by_the_redirect_follows_a_new_expiry(gateway, anonymous):
    made = await link(gateway)
    assert (await click(anonymous, made["slug"])).status_code == 302
    assert (await gateway.patch(f"{LINKS}/{made['id']}", json={"expires_at": "2020-01-01T00:00:00Z"})).status_code == 200
    assert (await click(anonymous, made["slug"])).status_code == 404


async def test_a_refused_change_leaves_the_kept_link_serving(gateway, anonymous):
    # A PATCH of a revoked link is a 409 and rolls back: nothing committed, nothing to drop,
    # and the link stays refused as it was.
    made = await link(gateway)
    await gateway.post(f"{LINKS}/{made['id']}/revoke")
    assert (await gateway.patch(f"{LINKS}/{made['id']}", json={"window_days": 7})).status_code == 409
    assert (await click(anonymous, made["slug"])).status_code == 404


async def test_each_click_of_a_link_is_its_own_aggregate_with_no_sequence_counter(gateway, anonymous, attribution_db):
    made = await link(gateway)
    ids = [str(clicked(click_id(await click(anonymous, made["slug"])))) for _ in range(3)]
    rows = await attribution_db.fetch(
        "SELECT key, sequence FROM attribution.outbox WHERE topic = 'attribution.click.v1' AND key = ANY($1::text[])", ids
    )
    assert sorted(r["key"] for r in rows) == sorted(ids) and {r["sequence"] for r in rows} == {1}
    counters = await attribution_db.fetchval(
        "SELECT count(*) FROM attribution.outbox_sequences WHERE topic = 'attribution.click.v1' AND key = ANY($1::text[])",
        [*ids, made["id"]],
    )
    assert counters == 0


async def test_the_event_says_what_the_click_row_says_about_uniqueness(gateway, anonymous, attribution_db):
    # The click and its event are written by one statement that decides uniqueness on the way:
    # the event must carry that decision, for the unique first click and for the repeat.
    made = await link(gateway)
    ids = [str(clicked(click_id(await click(anonymous, made["slug"])))) for _ in range(2)]
    for one, expected in zip(ids, (True, False)):
        row = await attribution_db.fetchrow("SELECT is_unique FROM attribution.clicks WHERE id = $1", uuid.UUID(one))
        value = await attribution_db.fetchval(
            "SELECT value FROM attribution.outbox WHERE topic = 'attribution.click.v1' AND key = $1", one
        )
        event = json.loads(value)
        assert row["is_unique"] is expected and event["payload"]["unique"] is expected
        assert event["payload"]["click_id"] == one and event["event_id"]


async def test_a_click_from_a_data_centre_is_recorded_flagged_and_never_credited(gateway, platform, attribution_db):
    """As the gateway forwards it: the client's address in X-Forwarded-For (the gateway sets it to
    the address it saw, replacing whatever the client sent). Sent straight to attribution, since
    the suite's own clients all come from 127.0.0.1."""
    import httpx

    made = await link(gateway)
    async with httpx.AsyncClient(base_url=platform.s.url("attribution")) as direct:
        cloud = await direct.get(f"/r/{made['slug']}", headers={"User-Agent": BROWSER, "X-Forwarded-For": "52.94.76.1"})
        home = await direct.get(f"/r/{made['slug']}", headers={"User-Agent": BROWSER, "X-Forwarded-For": "81.2.69.142"})
    assert cloud.status_code == home.status_code == 302, cloud.text
    rows = {str(r["id"]): r for r in await attribution_db.fetch(
        "SELECT id, flagged, flag_reason, is_unique FROM attribution.clicks WHERE link_id = $1", uuid.UUID(made["id"]))}
    flagged, person = rows[str(clicked(click_id(cloud)))], rows[str(clicked(click_id(home)))]
    assert flagged["flagged"] and flagged["flag_reason"].startswith("data centre: aws") and not flagged["is_unique"]
    assert not person["flagged"] and person["flag_reason"] is None and person["is_unique"]


async def test_each_click_and_its_event_belong_to_the_tenant_of_its_link(gateway, other_gateway, anonymous, attribution_db):
    """The redirect reads and writes across tenants on the driver (ADR 0013's one raw exception):
    each row it writes must carry the tenant of the link that was followed, never another's."""
    ours, theirs = await link(gateway), await link(other_gateway)
    for made in (ours, theirs):
        response = await click(anonymous, made["slug"])
        assert response.status_code == 302, response.text
        the_click = clicked(click_id(response))
        owner = await attribution_db.fetchval("SELECT tenant_id FROM attribution.links WHERE id = $1", uuid.UUID(made["id"]))
        row = await attribution_db.fetchrow("SELECT tenant_id, link_id FROM attribution.clicks WHERE id = $1", the_click)
        assert (row["tenant_id"], str(row["link_id"])) == (owner, made["id"])
        event = await attribution_db.fetchval(
            "SELECT value FROM attribution.outbox WHERE topic = 'attribution.click.v1' AND key = $1", str(the_click)
        )
        assert event is not None and json.loads(event)["tenant_id"] == str(owner), event
    owners = await attribution_db.fetch(
        "SELECT DISTINCT tenant_id FROM attribution.links WHERE id = ANY($1::uuid[])", [uuid.UUID(ours["id"]), uuid.UUID(theirs["id"])]
    )
    assert len(owners) == 2
