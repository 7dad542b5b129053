"""An audit history and the comparison of two audits, through the gateway with real Kafka and
PostgreSQL: a second follower sample between two audits shows as new data, put down to the one
signal that reads the sample."""

import uuid

import pytest

from tests.audit.flow import creator_body, finished, followers, ingest_creator, post_followers
from tests.conftest import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def audit_now(gateway, creator_id: str) -> dict:
    """A completed audit of the creator, run now (the pending automatic one if there is one)."""
    requested = await gateway.post("/v1/audit/audits", json={"creator_id": creator_id})
    assert requested.status_code in (200, 202), requested.text
    done = await finished(gateway, requested.json()["id"])
    assert done["status"] == "completed", done
    return done


async def test_the_history_is_newest_first_one_page_at_a_time_and_filters_by_status(gateway):
    creator = await ingest_creator(gateway, creator_body(posts=2, points=2))
    made = [(await audit_now(gateway, creator["id"]))["id"] for _ in range(3)]
    history = f"/v1/audit/creators/{creator['id']}/audits"

    first = (await gateway.get(history, params={"limit": 2})).json()
    assert [a["id"] for a in first["items"]] == made[:0:-1]
    second = (await gateway.get(history, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [a["id"] for a in second["items"]] == [made[0]] and second["next_cursor"] is None
    completed = (await gateway.get(history, params={"status": "completed"})).json()["items"]
    assert [a["id"] for a in completed] == made[::-1]
    assert (await gateway.get(history, params={"status": "failed"})).json()["items"] == []
    assert {"score", "grade", "confidence", "flags", "versions", "samples", "window", "finished_at"} <= set(completed[0])


async def test_the_history_of_a_creator_audit_does_not_hold_is_404_and_a_bad_status_422(gateway):
    unknown = await gateway.get(f"/v1/audit/creators/{uuid.uuid4()}/audits")
    assert unknown.status_code == 404 and "no creator" in unknown.json()["detail"]
    creator = await ingest_creator(gateway, creator_body(posts=1, points=1))
    bad = await gateway.get(f"/v1/audit/creators/{creator['id']}/audits", params={"status": "done"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "query.status"


async def test_a_second_follower_sample_is_new_data_and_moves_audience_quality_only(gateway):
    creator = await ingest_creator(gateway, creator_body(posts=5, points=6))
    creator_id = creator["id"]
    first_sample = await post_followers(gateway, followers(creator_id, 200))
    before = await audit_now(gateway, creator_id)
    # Another sample: more followers, most of them following thousands of accounts (mass followers).
    second_sample = await post_followers(gateway, followers(creator_id, 300, mass=240))
    assert second_sample["samples"][0]["sample_id"] != first_sample["samples"][0]["sample_id"]
    after = await audit_now(gateway, creator_id)

    answer = await gateway.get(f"/v1/audit/audits/{before['id']}/compare/{after['id']}")
    assert answer.status_code == 200, answer.text
    diff = answer.json()
    assert diff["before"]["id"] == before["id"] and diff["after"]["id"] == after["id"] and diff["chronological"]
    assert diff["causes"] == ["new_data"] and diff["versions"] == []
    assert diff["data"]["samples"]["followers"] == {"before": 200, "after": 300, "delta": 100}
    assert diff["data"]["samples"]["posts"]["delta"] == 0
    assert diff["data"]["follower_sample"] == {
        "before": first_sample["samples"][0]["sample_id"], "after": second_sample["samples"][0]["sample_id"],
    }
    assert "+100 followers sampled" in diff["data"]["summary"]
    assert diff["score"]["before"] == before["score"] and diff["score"]["after"] == after["score"]
    assert diff["score"]["delta"] == pytest.approx(after["score"] - before["score"], abs=1e-3)
    assert diff["grade"] == {"before": before["grade"], "after": after["grade"]}
    assert diff["flags_added"] == [f for f in after["flags"] if f not in before["flags"]]

    signals = {s["name"]: s for s in diff["signals"]}
    assert list(signals) == [s["name"] for s in after["signals"]]
    audience = signals["audience_quality"]
    assert audience["changed"] and audience["attribution"] == "new_data" and audience["causes"] == ["new_data"]
    assert audience["score"]["after"] < audience["score"]["before"]
    assert "new follower sample" in audience["explanation"]
    assert audience["evidence_added"] and audience["evidence_removed"]
    # likes_comments reads the posts only, which did not change: same result, nothing to explain.
    likes = signals["likes_comments"]
    assert not likes["changed"] and likes["attribution"] is None and likes["score"]["delta"] == 0

    backwards = (await gateway.get(f"/v1/audit/audits/{after['id']}/compare/{before['id']}")).json()
    assert not backwards["chronological"]
    assert backwards["data"]["samples"]["followers"]["delta"] == -100


async def test_comparing_names_the_audit_that_is_unknown_pending_or_of_another_creator(gateway, audit_db):
    creator = await ingest_creator(gateway, creator_body(posts=1, points=1))
    done = await audit_now(gateway, creator["id"])
    unknown = uuid.uuid4()

    missing = await gateway.get(f"/v1/audit/audits/{done['id']}/compare/{unknown}")
    assert missing.status_code == 404 and str(unknown) in missing.json()["detail"]
    assert "other_audit_id" in missing.json()["detail"]
    missing_first = await gateway.get(f"/v1/audit/audits/{unknown}/compare/{done['id']}")
    assert missing_first.status_code == 404 and f"{unknown} (audit_id)" in missing_first.json()["detail"]

    other = await ingest_creator(gateway, creator_body(posts=1, points=1))
    # The new creator's automatic audit waits out its settle delay: pending, and not yet due.
    pending = await eventually(lambda: audit_db.fetchval(
        "select id::text from audit.audits where creator_id = $1::uuid and status = 'pending' and run_after > now()",
        other["id"],
    ))
    crossed = await gateway.get(f"/v1/audit/audits/{done['id']}/compare/{pending}")
    assert crossed.status_code == 422, crossed.text
    assert crossed.json()["detail"][0]["field"] == "path.other_audit_id"
    assert "one creator" in crossed.json()["detail"][0]["reason"]

    not_done = await gateway.get(f"/v1/audit/audits/{pending}/compare/{pending}")
    assert not_done.status_code == 409, not_done.text
    assert f"{pending} (audit_id) is pending" in not_done.json()["detail"]
