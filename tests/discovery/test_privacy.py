"""Data-subject requests in discovery, real Kafka and PostgreSQL: PrivacyRequested published on
gateway.privacy.v1 as the gateway does, the receipt read back through the gateway with the
operator workspace's key. A creator's export holds what the index holds about them; an erasure
leaves nothing of them behind, and later events about them change nothing."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from shared.contracts.attribution import CreatorPerformanceUpdated
from shared.contracts.audit import AuditPayload
from shared.contracts.envelope import new_envelope
from tests.conftest import bearer, eventually, publish, unique_handle
from tests.discovery.privacy_requests import (
    PRIVACY_TOPIC,
    counts,
    privacy_request,
    processed,
    receipt,
    receipt_url,
    request_privacy,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

NOW = datetime.now(UTC).replace(microsecond=0)
GROUP = "discovery.privacy"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest_asyncio.fixture(scope="session")
async def operator(platform, operator_tenant):
    """A client of the gateway with the operator workspace's key (every scope)."""
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), timeout=15, headers=bearer(operator_tenant.key)) as client:
        yield client


def iso(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def person(bio: str = "Vegan baking for busy parents") -> dict:
    handle, tiktok = unique_handle("priv"), unique_handle("priv")
    return {
        "accounts": [
            {"platform": "instagram", "handle": handle, "followers": 52000, "following": 310, "observed_at": iso(0)},
            {"platform": "tiktok", "handle": tiktok, "followers": 9100},
        ],
        "display_name": "Anna Bakes",
        "bio": bio,
        "country": "gb",
        "contact": {"email": f"{handle}@example.com", "phone": "+44 20 7946 0000"},
        "price_estimates": [{"platform": "instagram", "deliverable": "reel", "amount": "1250.00", "currency": "gbp"}],
        "posts": [
            {"external_id": f"{handle}-1", "posted_at": iso(2), "type": "reel", "caption": "Oat cookies #vegan"},
            {"external_id": f"{handle}-2", "posted_at": iso(5), "type": "photo", "caption": "Rye bread"},
            {"platform": "tiktok", "handle": tiktok, "external_id": f"{tiktok}-1", "posted_at": iso(1), "type": "short"},
        ],
        "follower_points": [{"observed_at": iso(30), "followers": 40000}, {"observed_at": iso(91), "followers": 26000}],
        "audience": {"estimated_at": iso(3), "source": "panel", "countries": {"GB": 0.6, "US": 0.2},
                     "genders": {"female": 0.7, "male": 0.3}},
    }


async def new_creator(client, body: dict | None = None) -> dict:
    created = await client.post("/v1/discovery/creators", json=body or person())
    assert created.status_code == 201, created.text
    return created.json()


async def shortlisted(client, creator_id: str, note: str) -> str:
    """A new shortlist of `client`'s workspace holding the creator (moved on once: a stage change)."""
    made = await client.post("/v1/discovery/shortlists", json={"name": f"privacy {uuid.uuid4().hex[:8]}"})
    assert made.status_code == 201, made.text
    url = f"/v1/discovery/shortlists/{made.json()['id']}/creators/{creator_id}"
    assert (await client.put(url, json={"note": note, "tags": ["mine"]})).status_code == 201
    assert (await client.patch(url, json={"stage": "contacted", "change_note": note})).status_code == 200
    return made.json()["id"]


async def point_count(discovery_db, creator_id: str) -> int:
    return await discovery_db.fetchval(
        "select count(*) from discovery.follower_points p join discovery.accounts a on a.id = p.account_id "
        "where a.creator_id = $1::uuid", creator_id,
    )


async def test_a_creators_export_holds_what_the_index_holds_about_them(
    operator, operator_tenant, gateway, producer, discovery_db
):
    body = person()
    creator = await new_creator(gateway, body)
    await shortlisted(gateway, creator["id"], "a private note of the suite's workspace")

    request = await request_privacy(producer, operator_tenant.tenant_id, "export", creator_id=creator["id"])
    got = await receipt(operator, "discovery", request.payload.request_id)

    assert (got["service"], got["kind"], got["subject_type"], got["origin"]) == ("discovery", "export", "creator", "api")
    data = got["export"]
    assert data["creator"]["id"] == creator["id"] and data["creator"]["bio"] == body["bio"]
    assert data["creator"]["display_name"] == "Anna Bakes" and data["creator"]["country"] == "GB"
    assert data["contact"]["email"] == body["contact"]["email"] and data["contact"]["phone"] == body["contact"]["phone"]
    assert data["price_estimates"] == [
        {"platform": "instagram", "deliverable": "reel", "amount": "1250.00", "currency": "GBP"}]
    assert data["audience"]["countries"] == {"GB": 0.6, "US": 0.2} and data["audience"]["source"] == "panel"
    assert sorted(a["handle"] for a in data["accounts"]) == sorted(a["handle"] for a in body["accounts"])
    assert sorted(p["external_id"] for p in data["posts"]) == sorted(p["external_id"] for p in body["posts"])
    assert len(data["follower_points"]) == await point_count(discovery_db, creator["id"]) >= 3
    assert data["sales"] == [] and data["shortlist_entries"] == 1
    # Neither the workspaces' notes nor the index's vectors.
    assert "a private note" not in str(data) and not {"embedding", "document", "audience_vector"} & set(data["creator"])
    assert counts(got) == {
        "the creator: profile, contact details, price estimates, audience, audit status": 1,
        "accounts": 2, "posts": 3, "follower points": len(data["follower_points"]),
        "sales records (attribution's figures, per currency)": 0,
        "shortlist entries naming the creator, in every workspace": 1,
    }
    assert {a["done"] for a in got["actions"]} == {"exported"}
    assert (await gateway.get(f"/v1/discovery/creators/{creator['id']}")).status_code == 200  # an export changes nothing


def audit_completed(creator_id: str):
    return new_envelope(
        event_type="AuditCompleted", producer="audit", aggregate_id=creator_id,
        payload=AuditPayload(audit_id=uuid.uuid4(), creator_id=creator_id, status="completed", score=80.0, grade="B"),
    )


def sales(creator_id: str, as_of: datetime):
    return new_envelope(
        event_type="CreatorPerformanceUpdated", producer="attribution", aggregate_id=creator_id,
        payload=CreatorPerformanceUpdated(creator_id=creator_id, clicks=10, orders=2, revenue_minor=5000,
                                          commission_minor=500, currency="EUR", as_of=as_of),
    )


ROWS = {
    "creators": "select count(*) from discovery.creators where id = $1::uuid",
    "accounts": "select count(*) from discovery.accounts where creator_id = $1::uuid",
    "posts": "select count(*) from discovery.posts where creator_id = $1::uuid",
    "creator_sales": "select count(*) from discovery.creator_sales where creator_id = $1::uuid",
    "shortlist_entries": "select count(*) from discovery.shortlist_entries where creator_id = $1::uuid",
    "shortlist_stage_changes": "select count(*) from discovery.shortlist_stage_changes where creator_id = $1::uuid",
    "unsent events": "select count(*) from discovery.outbox where key = $1 and sent_at is null",
}


async def rows_of(discovery_db, creator_id: str, account_ids) -> dict[str, int]:
    found = {table: await discovery_db.fetchval(sql, creator_id) for table, sql in ROWS.items()}
    found["follower_points"] = await discovery_db.fetchval(
        "select count(*) from discovery.follower_points where account_id = any($1::uuid[])", account_ids)
    return found


async def test_a_creators_erasure_leaves_nothing_of_them_and_later_events_change_nothing(
    operator, operator_tenant, gateway, producer, discovery_db
):
    creator = await new_creator(gateway)
    creator_id = creator["id"]
    ours = await shortlisted(gateway, creator_id, "suite's note")
    await shortlisted(operator, creator_id, "operator's note")
    await publish(producer, "attribution.performance.v1", sales(creator_id, NOW))

    async def sold():
        return (await gateway.get(f"/v1/discovery/creators/{creator_id}")).json()["sales"]

    await eventually(sold)
    account_ids = [a["id"] for a in creator["accounts"]]
    points = await point_count(discovery_db, creator_id)

    request = await request_privacy(producer, operator_tenant.tenant_id, "erasure", creator_id=creator_id)
    got = await receipt(operator, "discovery", request.payload.request_id)

    assert (got["kind"], got["export"]) == ("erasure", None)
    assert {a["done"] for a in got["actions"]} == {"deleted"}
    found = counts(got)
    assert {k: v for k, v in found.items() if k != "unpublished events about the creator"} == {
        "follower points": points, "posts": 3, "sales records (attribution's figures, per currency)": 1,
        "shortlist entries' stage history, in every workspace": 4, "shortlist entries, in every workspace": 2,
        "accounts": 2, "the creator: profile, contact details, price estimates, audience, embeddings, audit status": 1,
    }
    [events] = [a for a in got["actions"] if a["what"] == "unpublished events about the creator"]
    assert events["note"] == "events already published expire with their topic's retention"

    assert (await gateway.get(f"/v1/discovery/creators/{creator_id}")).status_code == 404
    assert await rows_of(discovery_db, creator_id, account_ids) == dict.fromkeys([*ROWS, "follower_points"], 0)
    # The workspaces' shortlists stay, without the creator.
    listed = await gateway.get(f"/v1/discovery/shortlists/{ours}/creators")
    assert listed.status_code == 200 and listed.json()["items"] == []

    # An audit result and a sales record about the erased creator: applied, and nothing comes back.
    late = [audit_completed(creator_id), sales(creator_id, NOW + timedelta(hours=1))]
    for topic, envelope in zip(("audit.audit.v1", "attribution.performance.v1"), late):
        await publish(producer, topic, envelope)
    for group, envelope in zip(("discovery.audit-status", "discovery.performance"), late):
        await eventually(lambda g=group, e=envelope: _applied(discovery_db, g, e.event_id))
    assert await rows_of(discovery_db, creator_id, account_ids) == dict.fromkeys([*ROWS, "follower_points"], 0)
    assert (await gateway.get(f"/v1/discovery/creators/{creator_id}")).status_code == 404


async def _applied(discovery_db, group: str, event_id) -> bool:
    return await processed(discovery_db, "discovery", group, [event_id]) == 1


async def test_a_request_delivered_twice_is_acted_on_once(operator, operator_tenant, gateway, producer, discovery_db):
    creator = await new_creator(gateway, person(bio="the first bio"))
    envelope = privacy_request(operator_tenant.tenant_id, "export", creator_id=creator["id"])
    await publish(producer, PRIVACY_TOPIC, envelope)
    first = await receipt(operator, "discovery", envelope.payload.request_id)
    assert first["export"]["creator"]["bio"] == "the first bio"

    changed = await gateway.patch(f"/v1/discovery/creators/{creator['id']}", json={"bio": "the second bio"})
    assert changed.status_code == 200, changed.text
    # The same event again, and the same request in a new event (the gateway publishing it again).
    again = envelope.model_copy(update={"event_id": uuid.uuid4()})
    await publish(producer, PRIVACY_TOPIC, envelope)
    await publish(producer, PRIVACY_TOPIC, again)
    await eventually(lambda: _applied(discovery_db, GROUP, again.event_id))

    assert await receipt(operator, "discovery", envelope.payload.request_id) == first
    assert await discovery_db.fetchval(
        "select count(*) from discovery.privacy_receipts where request_id = $1", envelope.payload.request_id) == 1


@pytest.mark.parametrize(("kind", "export"), [("export", {}), ("erasure", None)])
async def test_a_shoppers_request_gets_a_receipt_saying_none_is_held(operator, operator_tenant, producer, kind, export):
    request = await request_privacy(producer, operator_tenant.tenant_id, kind)
    got = await receipt(operator, "discovery", request.payload.request_id)
    assert (got["kind"], got["subject_type"], got["export"]) == (kind, "customer", export)
    assert got["actions"] == [{"what": "shopper data", "done": "none held", "count": 0, "note": None}]


async def test_another_workspace_cannot_read_a_receipt(operator, operator_tenant, gateway, producer):
    request = await request_privacy(producer, operator_tenant.tenant_id, "export")
    await receipt(operator, "discovery", request.payload.request_id)

    theirs = await gateway.get(receipt_url("discovery", request.payload.request_id))
    nobodys = await gateway.get(receipt_url("discovery", uuid.uuid4()))
    assert theirs.status_code == nobodys.status_code == 404
    assert UUID.sub("<id>", theirs.text) == UUID.sub("<id>", nobodys.text)  # nothing says the request exists


async def test_a_receipt_takes_the_admin_scope(platform, operator, operator_tenant, producer):
    request = await request_privacy(producer, operator_tenant.tenant_id, "export")
    await receipt(operator, "discovery", request.payload.request_id)
    made = await operator.post("/v1/keys", json={"name": f"reader {uuid.uuid4().hex[:6]}", "scopes": ["discovery:read"]})
    assert made.status_code == 201, made.text
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), headers=bearer(made.json()["key"])) as reader:
        assert (await reader.get(receipt_url("discovery", request.payload.request_id))).status_code == 403


async def test_erasing_a_creator_the_index_does_not_hold_writes_a_receipt_of_zero_counts(
    operator, operator_tenant, producer
):
    request = await request_privacy(producer, operator_tenant.tenant_id, "erasure", creator_id=uuid.uuid4())
    got = await receipt(operator, "discovery", request.payload.request_id)
    assert got["actions"] and all(a["count"] == 0 and a["done"] == "deleted" for a in got["actions"])
