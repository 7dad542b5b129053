"""The audit flow end to end, through the gateway, real Kafka and PostgreSQL: discovery ingests
a creator -> audit projects it -> follower sample and comments through audit's bulk API ->
POST /v1/audit/audits -> the runner completes it -> AuditCompleted reaches discovery."""

import asyncio

import pytest

from tests.conftest import eventually
from tests.audit.flow import (
    creator_body,
    discovery_audit,
    finished,
    followers,
    ingest_creator,
    post_comments,
    post_followers,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

SIGNAL_FIELDS = {"name", "status", "score", "weight", "confidence", "evidence", "missing", "flags", "details"}


async def test_an_audit_reads_what_discovery_and_the_bulk_api_sent_and_reaches_discovery(gateway):
    creator = await ingest_creator(gateway, creator_body(posts=5, points=6))
    creator_id = creator["id"]
    posts = (await gateway.get(f"/v1/discovery/creators/{creator_id}/posts")).json()["items"]
    post_ids = [p["id"] for p in posts]
    assert len(post_ids) == 5

    sample = await post_followers(gateway, followers(creator_id, 200, mass=40))
    assert (sample["stored"], sample["failed"]) == (200, 0)
    comments = [
        {"post_id": post_ids[0], "author": "fan_a", "text": "love this", "commented_at": "2026-11-20T10:00:00Z"},
        {"post_id": post_ids[1], "author": "fan_b", "text": "where is this?", "commented_at": "2026-11-20T11:00:00Z"},
        {"platform": "instagram", "post_external_id": "p2", "author": "@Fan_C", "text": "🔥🔥🔥"},
    ]
    assert (await post_comments(gateway, comments))["created"] == 3

    # The creator's automatic audit (CreatorCreated) is pending, waiting out its settle delay:
    # the request returns it, due now.
    requested = await gateway.post("/v1/audit/audits", json={"creator_id": creator_id})
    assert requested.status_code == 200, requested.text
    audit = requested.json()
    assert audit["trigger"] == "creator_created" and audit["status"] in ("pending", "running")
    assert requested.headers["location"] == f"/v1/audit/audits/{audit['id']}"

    done = await finished(gateway, audit["id"])
    assert done["status"] == "completed", done
    assert done["samples"]["followers"] == 200
    assert done["samples"]["posts"] == 5
    assert done["samples"]["comments"] == 3
    assert done["samples"]["series_points"] >= 6
    assert done["follower_sample_id"] == sample["samples"][0]["sample_id"]
    assert {"model", "rules", "benchmarks"} <= set(done["versions"])
    assert done["model_version"] == done["versions"]["model"]
    assert done["window"]["start"] is not None and done["window"]["end"] is not None
    assert done["window"]["start"] <= done["window"]["end"]
    assert 0 <= done["score"] <= 100 and done["grade"]
    assert 0 <= done["audience_quality"] <= 1 and 0 <= done["confidence"] <= 1
    signals = {s["name"]: s for s in done["signals"]}
    assert all(set(s) == SIGNAL_FIELDS for s in done["signals"])
    assert signals["audience_quality"]["status"] == "judged"
    assert signals["audience_quality"]["evidence"]
    for s in done["signals"]:
        assert (s["score"] is None) == (s["status"] == "insufficient_data")
        assert s["status"] == "judged" or s["missing"]
    assert done["attempts"] == 1 and done["finished_at"] is not None

    seen = await discovery_audit(gateway, creator_id, audit["id"], "completed")
    assert seen["score"] == done["score"] and seen["grade"] == done["grade"]

    history = (await gateway.get(f"/v1/audit/creators/{creator_id}/audits")).json()["items"]
    assert [a["id"] for a in history] == [audit["id"]]

    # Nothing is pending or running now: a new request makes a new audit.
    again = await gateway.post("/v1/audit/audits", json={"creator_id": creator_id})
    assert again.status_code == 202, again.text
    assert again.json()["id"] != audit["id"] and again.json()["trigger"] == "requested"
    await finished(gateway, again.json()["id"])
    history = (await gateway.get(f"/v1/audit/creators/{creator_id}/audits")).json()["items"]
    assert [a["id"] for a in history] == [again.json()["id"], audit["id"]]  # newest first


async def test_a_creator_with_no_data_gets_insufficient_data_and_no_made_up_score(gateway):
    body = creator_body(posts=0, points=0)
    creator = await ingest_creator(gateway, body)
    audit = (await gateway.post("/v1/audit/audits", json={"creator_id": creator["id"]})).json()
    done = await finished(gateway, audit["id"])
    assert done["status"] == "completed", done
    assert done["samples"]["followers"] == 0 and done["samples"]["posts"] == 0 and done["samples"]["comments"] == 0
    signals = {s["name"]: s for s in done["signals"]}
    for name in ("audience_quality", "engagement_rate", "likes_comments", "comments"):
        assert signals[name]["status"] == "insufficient_data", signals[name]
        assert signals[name]["score"] is None and signals[name]["missing"]
    judged = [s for s in done["signals"] if s["status"] == "judged"]
    assert (done["score"] is None) == (not judged)
    if not judged:
        assert done["grade"] is None
    assert done["audience_quality"] is None
    seen = await discovery_audit(gateway, creator["id"], audit["id"], "completed")
    assert seen["score"] == done["score"]


async def test_a_request_while_an_audit_is_pending_returns_that_audit(gateway, audit_db):
    creator = await ingest_creator(gateway, creator_body(posts=1, points=1))
    # The automatic audit of the new creator waits out its settle delay (AUDIT_AUTO_DELAY_SECONDS):
    # pending, not yet due, so no runner can take it before the request below.
    pending = await eventually(lambda: audit_db.fetchval(
        "select id::text from audit.audits where creator_id = $1::uuid and status = 'pending' and run_after > now()",
        creator["id"],
    ))
    answer = await gateway.post("/v1/audit/audits", json={"creator_id": creator["id"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == pending  # the same audit, now due: the client asked


async def test_concurrent_requests_never_make_two_active_audits(gateway, audit_db):
    creator = await ingest_creator(gateway, creator_body(posts=1, points=1))
    # The automatic audit is set aside, so the requests below race to create one.
    await audit_db.execute(
        "update audit.audits set status = 'failed', failure_reason = 'test' where creator_id = $1::uuid", creator["id"]
    )
    answers = await asyncio.gather(
        *[gateway.post("/v1/audit/audits", json={"creator_id": creator["id"]}) for _ in range(6)]
    )
    assert all(a.status_code in (200, 202) for a in answers), [a.text for a in answers]
    created = {a.json()["id"] for a in answers if a.status_code == 202}
    assert created and {a.json()["id"] for a in answers} == created  # a 200 returns one of them
    # The runner may finish one between two requests (they are due at once), and the next request
    # then creates another; but never while another is pending or running (the unique partial
    # index): of the audits these requests created, at most one is still active.
    active = await audit_db.fetchval(
        "select count(*) from audit.audits where id = any($1::uuid[]) and status in ('pending', 'running')",
        list(created),
    )
    assert active <= 1
    assert await audit_db.fetchval(
        "select count(*) from audit.audits where creator_id = $1::uuid and status in ('pending', 'running')",
        creator["id"],
    ) <= 1


async def test_a_request_while_an_audit_is_running_returns_the_running_audit(gateway, audit_db):
    creator = await ingest_creator(gateway, creator_body(posts=1, points=1))
    # Another runner holds it: running, its lease far from expiry.
    running = await audit_db.fetchval(
        "update audit.audits set status = 'running', lease_token = gen_random_uuid(), attempts = 1, "
        "lease_expires_at = now() + interval '1 hour', started_at = now() "
        "where creator_id = $1::uuid and status = 'pending' returning id::text",
        creator["id"],
    )
    assert running is not None
    try:
        answer = await gateway.post("/v1/audit/audits", json={"creator_id": creator["id"]})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["id"], answer.json()["status"]) == (running, "running")
        unique = await audit_db.fetchval(
            "select count(*) from audit.audits where creator_id = $1::uuid and status in ('pending', 'running')",
            creator["id"],
        )
        assert unique == 1
    finally:
        await audit_db.execute("update audit.audits set status = 'failed' where id = $1::uuid", running)


async def test_an_audit_whose_runner_died_is_run_again_after_its_lease(gateway, audit_db):
    creator = await ingest_creator(gateway, creator_body(posts=2, points=2))
    # What a runner killed mid-run leaves: running, one attempt, a lease that ran out.
    audit_id = await audit_db.fetchval(
        "update audit.audits set status = 'running', lease_token = gen_random_uuid(), attempts = 1, "
        "lease_expires_at = now() - interval '1 second', started_at = now() - interval '3 minutes' "
        "where creator_id = $1::uuid and status = 'pending' returning id::text",
        creator["id"],
    )
    done = await finished(gateway, audit_id)
    assert (done["status"], done["attempts"]) == ("completed", 2)
    await discovery_audit(gateway, creator["id"], audit_id, "completed")


async def test_an_audit_whose_runs_keep_dying_fails_with_the_reason(gateway, audit_db):
    creator = await ingest_creator(gateway, creator_body(posts=1, points=1))
    audit_id = await audit_db.fetchval(
        "update audit.audits set status = 'running', lease_token = gen_random_uuid(), attempts = 3, "
        "lease_expires_at = now() - interval '1 second' "
        "where creator_id = $1::uuid and status = 'pending' returning id::text",
        creator["id"],
    )
    done = await finished(gateway, audit_id)
    assert done["status"] == "failed" and "3 times" in done["failure_reason"]
    assert done["score"] is None
    await discovery_audit(gateway, creator["id"], audit_id, "failed")


async def test_a_material_change_schedules_an_automatic_audit(gateway):
    body = creator_body(posts=1, points=1, followers=10_000)
    creator = await ingest_creator(gateway, body)
    first = (await gateway.post("/v1/audit/audits", json={"creator_id": creator["id"]})).json()
    await finished(gateway, first["id"])

    # A follower swing of 20 % or more: discovery says audit_needed.
    account = body["accounts"][0]
    changed = await gateway.patch(
        f"/v1/discovery/creators/{creator['id']}",
        json={"accounts": [{"platform": account["platform"], "handle": account["handle"], "followers": 15_000}]},
    )
    assert changed.status_code == 200, changed.text

    async def scheduled():
        items = (await gateway.get(f"/v1/audit/creators/{creator['id']}/audits")).json()["items"]
        return items[0] if items and items[0]["id"] != first["id"] else None

    automatic = await eventually(scheduled)
    assert automatic["status"] == "pending" and automatic["trigger"] != "requested"
    # It waits out the settle delay, so the rest of the refresh lands first.
    assert automatic["run_after"] > automatic["created_at"]




async def test_an_unknown_creator_cannot_be_audited(gateway):
    answer = await gateway.post("/v1/audit/audits", json={"creator_id": "00000000-0000-4000-8000-000000000001"})
    assert answer.status_code == 404
    assert (await gateway.get("/v1/audit/audits/00000000-0000-4000-8000-000000000001")).status_code == 404
    bad = await gateway.post("/v1/audit/audits", json={"creator_id": "not-a-uuid"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "body.creator_id"
