"""Data-subject requests in audit, real Kafka and PostgreSQL: PrivacyRequested published on
gateway.privacy.v1 as the gateway does, the receipt read back through the gateway with the
operator workspace's key. The creator's data is made through the public API (discovery, audit's
bulk routes, an audit, a share link and an appeal). An export holds what audit holds about the
creator; an erasure leaves nothing of them behind, and discovery's later events bring nothing
back."""

import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio

from shared.contracts.discovery import PostSnapshot, PostsObserved
from shared.contracts.envelope import new_envelope
from tests.audit.flow import creator_body, finished, followers, ingest_creator, post_comments, post_followers
from tests.conftest import AUDIT_GROUP, bearer, creator_created, eventually, publish
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

GROUP = "audit.privacy"
CREATOR_TOPIC = "discovery.creator.v2"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
APPEAL = "These are my real fans: a giveaway brought them in."


@pytest_asyncio.fixture(scope="session")
async def operator(platform, operator_tenant):
    """A client of the gateway with the operator workspace's key (every scope)."""
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), timeout=15, headers=bearer(operator_tenant.key)) as client:
        yield client


def body(*, posts: int, points: int) -> dict:
    """creator_body with post ids of its own (another test finds posts by platform and id "p2")."""
    made = creator_body(posts=posts, points=points)
    for post in made["posts"]:
        post["external_id"] = f"{made['accounts'][0]['handle']}-{post['external_id']}"
    return made


async def post_ids(gateway, creator_id: str) -> list[str]:
    page = (await gateway.get(f"/v1/discovery/creators/{creator_id}/posts")).json()
    return [p["id"] for p in page["items"]]


async def pods_settled(audit_db) -> bool:
    """The pods job has taken in every comment sent (it would replace the pods inserted next)."""
    return await audit_db.fetchval("select coalesce(bool_and(dirty_since is null), true) from audit.pods_state")


async def insert_pod(audit_db, members: list[str], creators: list[str]) -> str:
    return await audit_db.fetchval(
        "insert into audit.pods (id, members, creators, co_comments, posts, evidence) "
        "values (gen_random_uuid(), $1::text[], $2::uuid[], 12, 4, 'test pod') returning id::text",
        sorted(members), sorted(creators),
    )


async def everything_about_a_creator(gateway, anonymous, audit_db) -> dict:
    """A creator with posts, follower points, a follower sample, comments on its posts and by its
    account on another creator's, a completed audit, a share link with an appeal, and a pod."""
    creator = await ingest_creator(gateway, body(posts=3, points=4))
    other = await ingest_creator(gateway, body(posts=2, points=2))
    handle = creator["handle"]
    mine, theirs = await post_ids(gateway, creator["id"]), await post_ids(gateway, other["id"])
    await post_followers(gateway, followers(creator["id"], 20))
    await post_comments(gateway, [
        {"post_id": mine[0], "author": "fan_one", "text": "so good", "commented_at": "2026-11-20T10:15:00Z"},
        {"post_id": mine[1], "author": "fan_two", "text": "love it", "commented_at": "2026-11-20T10:16:00Z"},
        {"post_id": theirs[0], "author": handle, "text": "great shot, friend", "commented_at": "2026-11-20T11:00:00Z"},
        {"post_id": theirs[0], "author": "someone_else", "text": "nice", "commented_at": "2026-11-20T11:01:00Z"},
    ])
    requested = await gateway.post("/v1/audit/audits", json={"creator_id": creator["id"]})
    assert requested.status_code in (200, 202), requested.text
    audit = await finished(gateway, requested.json()["id"])
    assert audit["status"] == "completed", audit
    link = await gateway.post(f"/v1/audit/creators/{creator['id']}/share-links", json={})
    assert link.status_code == 201, link.text
    appeal = await anonymous.post(f"{link.json()['url']}/appeals",
                                  json={"audit_id": audit["id"], "flag": "audience_quality", "comment": APPEAL})
    assert appeal.status_code == 201, appeal.text
    await eventually(lambda: pods_settled(audit_db), timeout=90)
    pod = await insert_pod(audit_db, [handle, "fan_one", "fan_two"], [creator["id"], other["id"]])
    unrelated = await insert_pod(audit_db, ["x_one", "x_two", "x_three"], [other["id"]])
    return {"creator": creator, "other": other, "audit": audit, "link": link.json(), "appeal": appeal.json(),
            "pod": pod, "unrelated_pod": unrelated}


async def test_a_creators_export_holds_what_audit_holds_about_them(
    operator, operator_tenant, gateway, anonymous, producer, audit_db
):
    made = await everything_about_a_creator(gateway, anonymous, audit_db)
    creator_id = made["creator"]["id"]
    held = (await gateway.get(f"/v1/audit/creators/{creator_id}")).json()

    request = await request_privacy(producer, operator_tenant.tenant_id, "export", creator_id=creator_id)
    got = await receipt(operator, "audit", request.payload.request_id)

    assert (got["service"], got["kind"], got["subject_type"]) == ("audit", "export", "creator")
    data = got["export"]
    assert data["creator"]["creator_id"] == creator_id and data["creator"]["handle"] == made["creator"]["handle"]
    assert [a["handle"] for a in data["creator"]["accounts"]] == [made["creator"]["handle"]]
    [audit] = [a for a in data["audits"] if a["id"] == made["audit"]["id"]]
    assert (audit["status"], audit["score"], audit["grade"], audit["flags"]) == (
        "completed", made["audit"]["score"], made["audit"]["grade"], made["audit"]["flags"])
    assert audit["created_at"] and audit["finished_at"]
    assert (data["posts"], data["follower_points"]) == (3, held["series_points"])
    assert (data["follower_samples"], data["sampled_followers"]) == (1, 20)
    assert (data["comments_on_their_posts"], data["comments_they_wrote"]) == (2, 1)
    assert [p["id"] for p in data["pods"]] == [made["pod"]] and data["pods"][0]["members"] == 3
    assert data["share_links"] == 1
    [appeal] = data["appeals"]
    assert (appeal["id"], appeal["comment"], appeal["flag"]) == (made["appeal"]["id"], APPEAL, "audience_quality")
    # Other people (followers, commenters, pod members) are counted, never named.
    assert "fan_one" not in str(data) and "follower_0" not in str(data) and "someone_else" not in str(data)
    assert {a["done"] for a in got["actions"]} == {"exported"}
    assert counts(got)["audits"] == len(data["audits"]) >= 1
    assert (await gateway.get(f"/v1/audit/creators/{creator_id}")).status_code == 200  # an export changes nothing


ROWS = {
    "creators": "select count(*) from audit.creators where creator_id = $1::uuid",
    "posts": "select count(*) from audit.posts where creator_id = $1::uuid",
    "follower_points": "select count(*) from audit.follower_points where creator_id = $1::uuid",
    "follower_samples": "select count(*) from audit.follower_samples where creator_id = $1::uuid",
    "comments on its posts": "select count(*) from audit.comments where creator_id = $1::uuid",
    "audits": "select count(*) from audit.audits where creator_id = $1::uuid",
    "share_links": "select count(*) from audit.share_links where creator_id = $1::uuid",
    "appeals": "select count(*) from audit.appeals where creator_id = $1::uuid",
    "pods": "select count(*) from audit.pods where creators @> array[$1::uuid]",
    "unsent events": "select count(*) from audit.outbox where key = $1 and sent_at is null",
}


async def rows_of(audit_db, creator_id: str, handle: str) -> dict[str, int]:
    found = {table: await audit_db.fetchval(sql, creator_id) for table, sql in ROWS.items()}
    found["sample_followers"] = await audit_db.fetchval(
        "select count(*) from audit.sample_followers where username like $1", f"%\\_{creator_id[:8]}")
    found["comments it wrote"] = await audit_db.fetchval("select count(*) from audit.comments where author = $1", handle)
    return found


def posts_observed(creator_id: uuid.UUID):
    post = PostSnapshot(post_id=uuid.uuid4(), account_id=uuid.uuid4(), platform="instagram", external_id="late-1",
                        posted_at=datetime.now(UTC), type="photo", paid_partnership=False, sponsored=False)
    return new_envelope(event_type="PostsObserved", producer="discovery", aggregate_id=str(creator_id),
                        payload=PostsObserved(creator_id=creator_id, posts=[post], audit_needed=True))


async def late_events_applied(producer, audit_db, creator_id: uuid.UUID) -> None:
    """Discovery's events about the creator, published after its erasure, applied by audit."""
    late = [creator_created(creator_id), posts_observed(creator_id)]
    for envelope in late:
        await publish(producer, CREATOR_TOPIC, envelope)

    async def applied():
        return await processed(audit_db, "audit", AUDIT_GROUP, [e.event_id for e in late]) == len(late)

    await eventually(applied)


async def test_a_creators_erasure_leaves_nothing_of_them_and_later_events_bring_nothing_back(
    operator, operator_tenant, gateway, anonymous, producer, audit_db
):
    made = await everything_about_a_creator(gateway, anonymous, audit_db)
    creator_id, handle = made["creator"]["id"], made["creator"]["handle"]
    before = await rows_of(audit_db, creator_id, handle)
    started = await audit_db.fetchval("select now()")

    request = await request_privacy(producer, operator_tenant.tenant_id, "erasure", creator_id=creator_id)
    got = await receipt(operator, "audit", request.payload.request_id)

    assert (got["kind"], got["export"]) == ("erasure", None) and {a["done"] for a in got["actions"]} == {"deleted"}
    found = counts(got)
    assert {k: v for k, v in found.items() if k != "unpublished events about the creator"} == {
        "comments the creator's accounts wrote on other creators' posts": 1,
        "comments on the creator's posts": 2,
        "sampled followers": 20,
        "follower sample versions": 1,
        "posts": 3,
        "follower points": before["follower_points"],
        "appeals, in every workspace": 1,
        "share links, in every workspace": 1,
        "audits": before["audits"],
        "engagement pods naming the creator": 1,
        "the creator: audit's copy of its profile and accounts": 1,
    }
    [events] = [a for a in got["actions"] if a["what"] == "unpublished events about the creator"]
    assert events["note"] == "events already published expire with their topic's retention"

    assert await rows_of(audit_db, creator_id, handle) == dict.fromkeys(before, 0)
    assert await audit_db.fetchval("select count(*) from audit.erased_creators where creator_id = $1::uuid", creator_id) == 1
    # Other people's rows stay: the other creator's comment by someone else, the pod not naming it.
    assert await audit_db.fetchval("select count(*) from audit.comments where author = 'someone_else' "
                                   "and creator_id = $1::uuid", made["other"]["id"]) == 1
    # The pods job is told the comments changed, to find the other accounts' pods again.
    assert await audit_db.fetchval("select last_ingest_at from audit.pods_state where id = 1") >= started
    assert (await gateway.get(f"/v1/audit/creators/{creator_id}")).status_code == 404
    assert (await gateway.get(f"/v1/audit/audits/{made['audit']['id']}")).status_code == 404
    assert (await anonymous.get(made["link"]["url"])).status_code == 404

    await late_events_applied(producer, audit_db, uuid.UUID(creator_id))
    assert await rows_of(audit_db, creator_id, handle) == dict.fromkeys(before, 0)
    assert (await gateway.get(f"/v1/audit/creators/{creator_id}")).status_code == 404


async def test_a_creator_erased_before_discovery_announced_it_never_appears(operator, operator_tenant, producer, audit_db):
    creator_id = uuid.uuid4()
    request = await request_privacy(producer, operator_tenant.tenant_id, "erasure", creator_id=creator_id)
    got = await receipt(operator, "audit", request.payload.request_id)
    # Nothing was held: every count is zero, and the receipt still says what was looked for.
    assert got["actions"] and all(a["count"] == 0 for a in got["actions"])

    await late_events_applied(producer, audit_db, creator_id)
    for sql in (ROWS["creators"], ROWS["posts"], ROWS["audits"]):
        assert await audit_db.fetchval(sql, str(creator_id)) == 0


async def test_a_request_delivered_twice_is_acted_on_once(operator, operator_tenant, gateway, producer, audit_db):
    creator = await ingest_creator(gateway, body(posts=2, points=2))
    await post_followers(gateway, followers(creator["id"], 5))
    envelope = privacy_request(operator_tenant.tenant_id, "export", creator_id=creator["id"])
    await publish(producer, PRIVACY_TOPIC, envelope)
    first = await receipt(operator, "audit", envelope.payload.request_id)
    assert first["export"]["follower_samples"] == 1

    await post_followers(gateway, followers(creator["id"], 7))  # a second sample version
    again = envelope.model_copy(update={"event_id": uuid.uuid4()})  # the gateway publishing the request again
    await publish(producer, PRIVACY_TOPIC, envelope)
    await publish(producer, PRIVACY_TOPIC, again)

    async def applied():
        return await processed(audit_db, "audit", GROUP, [again.event_id]) == 1

    await eventually(applied)
    assert await receipt(operator, "audit", envelope.payload.request_id) == first
    assert await audit_db.fetchval(
        "select count(*) from audit.privacy_receipts where request_id = $1", envelope.payload.request_id) == 1


@pytest.mark.parametrize(("kind", "export"), [("export", {}), ("erasure", None)])
async def test_a_shoppers_request_gets_a_receipt_saying_none_is_held(operator, operator_tenant, producer, kind, export):
    request = await request_privacy(producer, operator_tenant.tenant_id, kind)
    got = await receipt(operator, "audit", request.payload.request_id)
    assert (got["kind"], got["subject_type"], got["export"]) == (kind, "customer", export)
    assert got["actions"] == [{"what": "shopper data", "done": "none held", "count": 0, "note": None}]


async def test_another_workspace_cannot_read_a_receipt(operator, operator_tenant, gateway, producer):
    request = await request_privacy(producer, operator_tenant.tenant_id, "export")
    await receipt(operator, "audit", request.payload.request_id)

    theirs = await gateway.get(receipt_url("audit", request.payload.request_id))
    nobodys = await gateway.get(receipt_url("audit", uuid.uuid4()))
    assert theirs.status_code == nobodys.status_code == 404
    assert UUID.sub("<id>", theirs.text) == UUID.sub("<id>", nobodys.text)  # nothing says the request exists


async def test_exporting_a_creator_audit_does_not_hold_says_none_is_held(operator, operator_tenant, producer):
    request = await request_privacy(producer, operator_tenant.tenant_id, "export", creator_id=uuid.uuid4())
    got = await receipt(operator, "audit", request.payload.request_id)
    assert (got["export"], got["actions"]) == ({}, [{"what": "the creator", "done": "none held", "count": 0, "note": None}])
