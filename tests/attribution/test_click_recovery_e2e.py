"""A click travels with the visitor: the click id the redirect appends is the click, sealed
(shared/clicks/token.py), and an order that brings back the id of a click no row holds — its
record never reached the database — records the click from it before it is credited
(services/attribution/clicks/recovery.py, docs/decisions/0061). Through the gateway, on the
platform's Kafka and PostgreSQL.

The lost record is made here as the redirect would have made it: a click id sealed under the
installation's key for a real link, for a click no row holds."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from runtime.keys import installation_keys
from shared.clicks import token as click_token
from shared.clicks.visitor import VisitorHasher
from tests.attribution.test_audience_holdout_e2e import holdout_for
from tests.attribution.test_click_redirect import attribution_db, click, click_id, clicked  # noqa: F401 (a fixture)
from tests.attribution.test_crediting_totals import campaign_with_creator, credited, enrol, order_on
from tests.attribution.test_links import make
from tests.attribution.test_orders_e2e import deliver_shopify, new_order_id, order_named
from tests.conftest import eventually
from tests.gateway.webhooks.conftest import create_generic_source, create_shopify_source, generic_headers

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def hasher(platform) -> VisitorHasher:
    return VisitorHasher(installation_keys(platform.s.state_dir).attribution_hash_key.encode())


def lost_click(platform, link: dict, *, flag: int = 0, visitor: str | None = "81.2.69.160", key: bytes | None = None,
               minutes_ago: int = 5, group: str | None = None) -> tuple[str, click_token.ClickToken]:
    """The id a redirect appended for a click on `link` whose record never reached the database."""
    keys = hasher(platform)
    at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).replace(microsecond=123000)
    token = click_token.ClickToken(click_id=uuid.uuid4(), link_id=uuid.UUID(link["id"]), clicked_at=at, flag=flag,
                                   group=group, visitor_hash=keys(visitor) if visitor else None)
    return click_token.mint(key or keys.token_key, token), token


async def campaign_link(gateway) -> tuple[str, dict, str]:
    campaign_id, _, code = await campaign_with_creator(gateway, {"percent": "10"})
    creator = await enrol(gateway, campaign_id)
    return creator, await make(gateway, campaign_id, creator), code


async def credit_of_order(gateway, anonymous, carried: str, code: str | None = None) -> dict:
    """The credit of a new Shopify order placed tomorrow, carrying the click id `carried`."""
    source = await create_shopify_source(gateway)
    order_id, order = order_on(1, code, click=carried)
    await deliver_shopify(anonymous, source, "orders/create", order)
    return await credited(gateway, order_id)


async def stored(attribution_db, click: uuid.UUID) -> tuple[int, int]:  # noqa: F811
    """How many rows and ClickRecorded events hold the click."""
    rows = await attribution_db.fetchval("SELECT count(*) FROM attribution.clicks WHERE id = $1", click)
    events = await attribution_db.fetchval(
        "SELECT count(*) FROM attribution.outbox WHERE topic = 'attribution.click.v1' AND key = $1", str(click))
    return rows, events


async def test_an_order_carrying_a_lost_click_records_it_and_is_credited_to_its_creator(
        gateway, anonymous, platform, attribution_db):  # noqa: F811
    creator, link, _ = await campaign_link(gateway)
    carried, token = lost_click(platform, link)
    assert await stored(attribution_db, token.click_id) == (0, 0)
    source = await create_shopify_source(gateway)
    order_id, order = order_on(1, None, click=carried)
    await deliver_shopify(anonymous, source, "orders/create", order)

    credit = await credited(gateway, order_id)
    assert credit["creator_id"] == creator and credit["touch"] == f"link {link['slug']}", credit
    row = await attribution_db.fetchrow("SELECT * FROM attribution.clicks WHERE id = $1", token.click_id)
    assert str(row["link_id"]) == link["id"] and str(row["creator_id"]) == creator
    assert row["clicked_at"] == token.clicked_at and row["visitor_hash"] == token.visitor_hash
    assert row["is_unique"] and not row["flagged"] and row["user_agent"] is None and row["method"] == "GET"
    event = json.loads(await attribution_db.fetchval(
        "SELECT value FROM attribution.outbox WHERE topic = 'attribution.click.v1' AND key = $1", str(token.click_id)))
    assert event["payload"]["click_id"] == str(token.click_id) and event["payload"]["unique"] is True
    # What the order keeps is the click it names, as every reader of orders.click_ids matches it.
    kept = await attribution_db.fetchval("SELECT click_ids FROM attribution.orders WHERE order_id = $1", str(order_id))
    assert kept == [str(token.click_id)]

    # The same order again (an update), and another order carrying the same click: one click.
    before = (await order_named(gateway, str(order_id)))["updated_at"]
    later = (datetime.fromisoformat(order["updated_at"]) + timedelta(minutes=5)).isoformat()
    await deliver_shopify(anonymous, source, "orders/updated", {**order, "updated_at": later, "note": "gift wrap"})

    async def updated():
        found = await order_named(gateway, str(order_id))
        return found if found["updated_at"] != before else None

    await eventually(updated)
    second, other = order_on(1, None, click=carried, hour=13)
    await deliver_shopify(anonymous, source, "orders/create", other)
    assert (await credited(gateway, second))["creator_id"] == creator
    assert await stored(attribution_db, token.click_id) == (1, 1)  # one row, one event


async def test_a_click_id_not_made_here_records_nothing_and_credits_nothing(gateway, anonymous, platform, attribution_db):  # noqa: F811
    _, link, _ = await campaign_link(gateway)
    forged, token = lost_click(platform, link, key=click_token.derive_key(b"another installation's key"))
    credit = await credit_of_order(gateway, anonymous, forged)
    assert credit["creator_id"] is None, credit
    assert await stored(attribution_db, token.click_id) == (0, 0)


async def test_a_lost_bot_click_is_recorded_flagged_and_not_credited(gateway, anonymous, platform, attribution_db):  # noqa: F811
    _, link, code = await campaign_link(gateway)
    carried, token = lost_click(platform, link, flag=click_token.FLAG_KINDS.index("bot"))
    credit = await credit_of_order(gateway, anonymous, carried, code=code)
    assert credit["touch"] == f"code {code}", credit  # the flagged click lost; the code won
    row = await attribution_db.fetchrow("SELECT flagged, flag_reason, is_unique FROM attribution.clicks WHERE id = $1",
                                        token.click_id)
    assert row["flagged"] and row["flag_reason"] == "bot" and not row["is_unique"]


async def test_a_lost_click_on_another_workspaces_link_is_not_recorded(gateway, other_gateway, anonymous, platform,
                                                                       attribution_db):  # noqa: F811
    _, theirs, _ = await campaign_link(other_gateway)
    carried, token = lost_click(platform, theirs)
    credit = await credit_of_order(gateway, anonymous, carried)
    assert credit["creator_id"] is None
    assert await stored(attribution_db, token.click_id) == (0, 0)


async def test_a_recorded_click_is_matched_not_recorded_again(gateway, anonymous, attribution_db):  # noqa: F811
    creator, link, _ = await campaign_link(gateway)
    redirect = await click(anonymous, link["slug"])
    carried = click_id(redirect)
    assert len(carried) == 118 and clicked(carried) is not None  # sealed, with its visitor
    credit = await credit_of_order(gateway, anonymous, carried)
    assert credit["creator_id"] == creator
    assert await attribution_db.fetchval(
        "SELECT count(*) FROM attribution.clicks WHERE link_id = $1", uuid.UUID(link["id"])) == 1


async def test_two_orders_carrying_the_same_lost_click_at_once_record_it_once(gateway, anonymous, platform, attribution_db):  # noqa: F811
    creator, link, _ = await campaign_link(gateway)
    carried, token = lost_click(platform, link)
    # One source each: a source's deliveries share a partition (its key), so these are consumed side by
    # side, each order in its own transaction, both finding the click missing.
    sources = [await create_shopify_source(gateway) for _ in range(4)]
    placed = [order_on(1, None, click=carried, hour=hour) for hour in (10, 11, 12, 13)]
    await asyncio.gather(*(deliver_shopify(anonymous, source, "orders/create", order)
                           for source, (_, order) in zip(sources, placed)))
    for order_id, _ in placed:
        assert (await credited(gateway, order_id))["creator_id"] == creator
    assert await stored(attribution_db, token.click_id) == (1, 1)  # one row, one event


async def test_a_lost_click_without_an_address_and_one_in_the_generic_format(gateway, anonymous, platform, attribution_db):  # noqa: F811
    creator, link, _ = await campaign_link(gateway)
    carried, token = lost_click(platform, link, visitor=None)
    assert len(carried) == 75
    source = await create_generic_source(gateway)
    order_id = str(new_order_id())
    body = json.dumps({
        "type": "order", "order_id": order_id, "placed_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "currency": "USD", "customer": "cust-recovered", "click_id": carried,
        "line_items": [{"id": "1", "quantity": 1, "unit_price": "40.00"}], "totals": {"total": "40.00"},
    }).encode()
    response = await anonymous.post(f"/webhooks/generic/{source.id}", content=body,
                                    headers=generic_headers(source.secret, body, event="order"))
    assert response.status_code == 200, response.text

    async def decided():
        found = await order_named(gateway, order_id, "generic")
        return found["credit"] if found and found["credit"] else None

    assert (await eventually(decided))["creator_id"] == creator
    row = await attribution_db.fetchrow("SELECT visitor_hash, is_unique, flagged FROM attribution.clicks WHERE id = $1",
                                        token.click_id)
    assert row["visitor_hash"] is None and row["is_unique"] and not row["flagged"]


async def test_a_lost_click_older_than_the_retention_period_is_not_recorded(gateway, anonymous, platform, attribution_db):  # noqa: F811
    _, link, _ = await campaign_link(gateway)
    carried, token = lost_click(platform, link, minutes_ago=181 * 24 * 60)
    credit = await credit_of_order(gateway, anonymous, carried)
    assert credit["creator_id"] is None
    assert await stored(attribution_db, token.click_id) == (0, 0)


async def test_a_lost_click_held_out_by_an_audience_holdout_keeps_its_group_and_is_not_credited(
        gateway, anonymous, platform, attribution_db):  # noqa: F811
    _, link, code = await campaign_link(gateway)
    holdout = (await holdout_for(gateway, link["campaign_id"], [link["id"]])).json()
    carried, token = lost_click(platform, link, group="control", minutes_ago=0)  # today: the holdout's first day
    credit = await credit_of_order(gateway, anonymous, carried)
    assert credit["creator_id"] is None and "held out by an audience holdout" in credit["explanation"], credit
    row = await attribution_db.fetchrow("SELECT holdout_id, holdout_group FROM attribution.clicks WHERE id = $1",
                                        token.click_id)
    assert (str(row["holdout_id"]), row["holdout_group"]) == (holdout["id"], "control")


async def test_a_held_out_click_whose_holdout_is_not_found_stays_held_out(gateway, anonymous, platform, attribution_db):  # noqa: F811
    """Fail closed: the redirect sent the visitor to the control destination; its group holds."""
    _, link, _ = await campaign_link(gateway)
    carried, token = lost_click(platform, link, group="control")
    credit = await credit_of_order(gateway, anonymous, carried)
    assert credit["creator_id"] is None
    row = await attribution_db.fetchrow("SELECT holdout_id, holdout_group FROM attribution.clicks WHERE id = $1",
                                        token.click_id)
    assert (row["holdout_id"], row["holdout_group"]) == (None, "control")
