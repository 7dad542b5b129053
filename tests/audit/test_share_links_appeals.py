"""Share links and appeals through the gateway, real Kafka and PostgreSQL: a tenant shares a
creator's audit with the creator by an unguessable, expiring link; the creator reads it and
appeals a finding without credentials; the tenant's reviewers resolve the appeal, and the
resolution shows on the audit and on the creator's view — for that tenant only."""

import asyncio
import hashlib
import secrets
import uuid
from markupsafe import escape  # as Jinja2 escapes the page

import pytest

from tests.audit.flow import creator_body, finished, followers, ingest_creator, post_followers
from tests.runtime.helpers import log_lines

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def audited_creator(gateway) -> tuple[dict, dict]:
    """A creator with a follower sample, and its completed audit."""
    creator = await ingest_creator(gateway, creator_body(posts=5, points=6))
    await post_followers(gateway, followers(creator["id"], 120, mass=30))
    requested = await gateway.post("/v1/audit/audits", json={"creator_id": creator["id"]})
    assert requested.status_code in (200, 202), requested.text
    audit = await finished(gateway, requested.json()["id"])
    assert audit["status"] == "completed", audit
    return creator, audit


async def share(gateway, creator_id: str, **body) -> dict:
    made = await gateway.post(f"/v1/audit/creators/{creator_id}/share-links", json=body)
    assert made.status_code == 201, made.text
    return made.json()


async def test_a_share_link_shows_the_latest_completed_audit_to_anyone_holding_it(gateway, anonymous, audit_db):
    creator, audit = await audited_creator(gateway)
    link = await share(gateway, creator["id"], expires_in_days=7, note="sent to the creator's manager")
    assert link["url"] == f"/shared/audits/{link['token']}" and len(link["token"]) >= 43
    assert link["state"] == "active" and link["creator_id"] == creator["id"]

    view = await anonymous.get(link["url"])
    assert view.status_code == 200, view.text
    assert view.headers["cache-control"] == "no-store" and view.headers["referrer-policy"] == "no-referrer"
    shown = view.json()
    assert shown["creator_id"] == creator["id"] and shown["platform"] == "instagram" and shown["handle"]
    assert shown["audit"]["id"] == audit["id"]
    assert (shown["audit"]["score"], shown["audit"]["grade"], shown["audit"]["flags"]) == (
        audit["score"], audit["grade"], audit["flags"])
    assert shown["audit"]["signals"] == audit["signals"] and shown["audit"]["versions"] == audit["versions"]
    assert shown["appeals"] == [] and "note" not in shown

    # Kept as its SHA-256 only; never listed again.
    stored = await audit_db.fetchrow("select * from audit.share_links where id = $1::uuid", link["id"])
    assert stored["token_hash"] == hashlib.sha256(link["token"].encode()).hexdigest()
    assert link["token"] not in str(dict(stored))
    listed = await gateway.get("/v1/audit/share-links", params={"creator_id": creator["id"]})
    assert [item["id"] for item in listed.json()["items"]] == [link["id"]]
    assert link["token"] not in listed.text and "token" not in listed.json()["items"][0]


async def test_unknown_expired_and_revoked_links_get_one_and_the_same_404(gateway, anonymous, audit_db):
    creator, audit = await audited_creator(gateway)
    expired, revoked = await share(gateway, creator["id"]), await share(gateway, creator["id"])
    await audit_db.execute(
        "update audit.share_links set expires_at = now() - interval '1 second' where id = $1::uuid", expired["id"]
    )
    assert (await gateway.delete(f"/v1/audit/share-links/{revoked['id']}")).status_code == 204
    listed = (await gateway.get(f"/v1/audit/share-links/{revoked['id']}")).json()
    assert listed["state"] == "revoked"
    assert (await gateway.delete(f"/v1/audit/share-links/{revoked['id']}")).status_code == 204
    assert (await gateway.get(f"/v1/audit/share-links/{revoked['id']}")).json() == listed  # again: no change
    states = {i["id"]: i["state"] for i in (await gateway.get("/v1/audit/share-links", params={"limit": 200})).json()["items"]}
    assert (states[expired["id"]], states[revoked["id"]]) == ("expired", "revoked")

    appeal = {"audit_id": audit["id"], "flag": "audience_quality", "comment": "not bots"}
    answers = []
    for token in (expired["token"], revoked["token"], secrets.token_urlsafe(32)):
        view = await anonymous.get(f"/shared/audits/{token}")
        filed = await anonymous.post(f"/shared/audits/{token}/appeals", json=appeal)
        page = await anonymous.get(f"/shared/audits/{token}/report")
        answers.append((view.status_code, view.text, filed.status_code, filed.text, page.status_code, page.text))
    assert answers[0][0] == 404 and answers[0][2] == 404 and answers[0][4] == 404
    malformed = await anonymous.get("/shared/audits/not!a~token")
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["field"] == "path.token"
    assert answers[0] == answers[1] == answers[2]  # word for word: which of the three is never said
    assert await audit_db.fetchval("select count(*) from audit.appeals where audit_id = $1::uuid", audit["id"]) == 0


async def test_appeals_are_filed_by_the_creator_resolved_by_the_tenant_and_shown_to_both(
    gateway, other_gateway, anonymous
):
    creator, audit = await audited_creator(gateway)
    link = await share(gateway, creator["id"])
    body = {"audit_id": audit["id"], "flag": "audience_quality", "comment": "A giveaway brought these in; gone now.",
            "evidence_urls": ["https://example.com/insights.png"]}

    filed = await anonymous.post(f"{link['url']}/appeals", json=body)
    assert filed.status_code == 201, filed.text
    appeal = filed.json()
    assert (appeal["status"], appeal["decision"], appeal["flag"]) == ("open", None, "audience_quality")
    replay = await anonymous.post(f"{link['url']}/appeals", json=body)
    assert replay.status_code == 200 and replay.json() == appeal  # the same appeal, not a second one

    open_ones = (await gateway.get("/v1/audit/appeals", params={"status": "open", "audit_id": audit["id"]})).json()
    assert [a["id"] for a in open_ones["items"]] == [appeal["id"]]
    assert open_ones["items"][0]["share_link_id"] == link["id"]
    assert (await gateway.get(f"/v1/audit/appeals/{appeal['id']}")).json()["comment"] == body["comment"]

    resolution = {"decision": "upheld", "note": "Confirmed with the platform's insights: the sample predates it."}
    resolved = await gateway.post(f"/v1/audit/appeals/{appeal['id']}/resolution", json=resolution)
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["decision"]) == ("resolved", "upheld")
    assert resolved.json()["resolved_by"].startswith("key:")
    same = await gateway.post(f"/v1/audit/appeals/{appeal['id']}/resolution", json=resolution)
    assert same.status_code == 200 and same.json() == resolved.json()
    changed = await gateway.post(f"/v1/audit/appeals/{appeal['id']}/resolution",
                                 json={**resolution, "decision": "rejected"})
    assert changed.status_code == 409 and "already resolved" in changed.json()["detail"]
    assert (await gateway.get("/v1/audit/appeals", params={"status": "open", "audit_id": audit["id"]})).json()["items"] == []

    on_audit = (await gateway.get(f"/v1/audit/audits/{audit['id']}")).json()["appeals"]
    assert [(a["id"], a["decision"], a["resolution_note"]) for a in on_audit] == [
        (appeal["id"], "upheld", resolution["note"])]
    shown = (await anonymous.get(link["url"])).json()["appeals"]
    assert [(a["id"], a["decision"], a["resolution_note"]) for a in shown] == [
        (appeal["id"], "upheld", resolution["note"])]
    assert "resolved_by" not in shown[0] and "share_link_id" not in shown[0]

    # The report pages: the tenant's and the creator's (no credentials) both show the resolution;
    # the creator's has no brand-safety section (the workspace's own keyword lists stay private).
    tenant_page = (await gateway.get(f"/v1/audit/audits/{audit['id']}/report")).text
    assert 'id="appeals"' in tenant_page and 'id="brand-safety"' in tenant_page
    assert str(escape(resolution["note"])) in tenant_page
    creator_page = await anonymous.get(f"{link['url']}/report")
    assert creator_page.status_code == 200, creator_page.text
    assert creator_page.headers["content-type"].startswith("text/html")
    assert creator_page.headers["cache-control"] == "no-store"
    assert "style-src 'unsafe-inline'" in creator_page.headers["content-security-policy"]
    assert str(escape(resolution["note"])) in creator_page.text and str(escape(body["comment"])) in creator_page.text
    assert 'id="brand-safety"' not in creator_page.text and audit["grade"] in creator_page.text

    # Another tenant sees the shared audit, none of the appeals, and cannot touch them.
    theirs = await other_gateway.get(f"/v1/audit/audits/{audit['id']}")
    assert theirs.status_code == 200 and theirs.json()["appeals"] == []
    assert (await other_gateway.get(f"/v1/audit/appeals/{appeal['id']}")).status_code == 404
    refused = await other_gateway.post(f"/v1/audit/appeals/{appeal['id']}/resolution", json=resolution)
    assert refused.status_code == 404
    assert appeal["id"] not in (await other_gateway.get("/v1/audit/appeals", params={"audit_id": audit["id"]})).text
    their_link = await share(other_gateway, creator["id"])
    assert (await anonymous.get(their_link["url"])).json()["appeals"] == []  # its own view: its own appeals
    assert link["id"] not in (await other_gateway.get("/v1/audit/share-links", params={"creator_id": creator["id"]})).text


async def test_an_appeal_names_what_is_wrong_with_it(gateway, anonymous, audit_db):
    creator, audit = await audited_creator(gateway)
    url = f"{(await share(gateway, creator['id']))['url']}/appeals"
    good = {"audit_id": audit["id"], "flag": "growth", "comment": "seasonal"}

    async def refused(body: dict) -> tuple[int, str]:
        answer = await anonymous.post(url, json=body)
        detail = answer.json()["detail"]
        return answer.status_code, detail[0]["field"] if isinstance(detail, list) else detail

    assert await refused({**good, "flag": "no_such_flag"}) == (422, "body.flag")
    assert await refused({**good, "comment": "   "}) == (422, "body.comment")
    assert await refused({**good, "comment": "x" * 2001}) == (422, "body.comment")
    assert await refused({**good, "evidence_urls": ["ftp://example.com/a"]}) == (422, "body.evidence_urls.0")
    assert await refused({**good, "evidence_urls": [f"https://example.com/{i}" for i in range(6)]}) == (
        422, "body.evidence_urls")
    assert await refused({**good, "extra": 1}) == (422, "body.extra")
    status, detail = await refused({**good, "audit_id": str(uuid.uuid4())})
    assert status == 404 and "does not exist" in detail

    other, other_audit = await audited_creator(gateway)
    assert await refused({**good, "audit_id": other_audit["id"]}) == (422, "body.audit_id")
    # A pending audit of the creator (not due for an hour, so no runner takes it): nothing to appeal yet.
    pending = await audit_db.fetchval(
        "insert into audit.audits (id, creator_id, status, trigger, run_after) "
        "values (gen_random_uuid(), $1::uuid, 'pending', 'requested', now() + interval '1 hour') returning id::text",
        creator["id"],
    )
    status, detail = await refused({**good, "audit_id": pending})
    assert status == 409 and "is pending" in detail
    assert await audit_db.fetchval("select count(*) from audit.appeals where creator_id = $1::uuid", creator["id"]) == 0


async def test_a_share_link_request_names_what_is_wrong_with_it(gateway):
    creator, _ = await audited_creator(gateway)
    for days in (0, 91, "30", 1.5):
        answer = await gateway.post(f"/v1/audit/creators/{creator['id']}/share-links", json={"expires_in_days": days})
        assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "body.expires_in_days", days
    unknown = await gateway.post(f"/v1/audit/creators/{uuid.uuid4()}/share-links", json={})
    assert unknown.status_code == 404 and "no creator" in unknown.json()["detail"]
    assert (await gateway.delete(f"/v1/audit/share-links/{uuid.uuid4()}")).status_code == 404


async def test_a_share_links_token_is_never_logged(platform, gateway, anonymous):
    creator, audit = await audited_creator(gateway)
    link = await share(gateway, creator["id"])
    assert (await anonymous.get(link["url"])).status_code == 200
    assert (await anonymous.post(f"{link['url']}/appeals", json={"audit_id": audit["id"], "flag": "x", "comment": "y"})
            ).status_code == 422
    assert (await anonymous.get(f"{link['url']}/../../v1/audit/pods")).status_code in (404, 422)
    await gateway.delete(f"/v1/audit/share-links/{link['id']}")
    assert (await anonymous.get(link["url"])).status_code == 404
    for service in ("gateway", "audit"):
        assert link["token"] not in "\n".join(log_lines(platform.s.logs_dir, service)), f"{service} logged a token"


async def test_a_link_takes_at_most_20_appeals_awaiting_review(gateway, anonymous):
    creator, audit = await audited_creator(gateway)
    link = await share(gateway, creator["id"])
    filed = []
    for i in range(20):
        response = await anonymous.post(f"{link['url']}/appeals",
                                        json={"audit_id": audit["id"], "flag": "audience_quality", "comment": f"real {i}"})
        assert response.status_code == 201, response.text
        filed.append(response.json()["id"])
    one_more = {"audit_id": audit["id"], "flag": "audience_quality", "comment": "one more"}
    refused = await anonymous.post(f"{link['url']}/appeals", json=one_more)
    assert refused.status_code == 409 and "20 appeals awaiting review" in refused.json()["detail"]
    # The same appeal again is still the one filed (200), not a new one.
    again = await anonymous.post(f"{link['url']}/appeals",
                                 json={"audit_id": audit["id"], "flag": "audience_quality", "comment": "real 0"})
    assert again.status_code == 200 and again.json()["id"] == filed[0]
    # Once one is resolved there is room again.
    resolved = await gateway.post(f"/v1/audit/appeals/{filed[0]}/resolution", json={"decision": "rejected", "note": "n"})
    assert resolved.status_code == 200, resolved.text
    assert (await anonymous.post(f"{link['url']}/appeals", json=one_more)).status_code == 201


async def test_the_same_appeal_sent_at_once_is_filed_once(gateway, anonymous):
    creator, audit = await audited_creator(gateway)
    link = await share(gateway, creator["id"])
    body = {"audit_id": audit["id"], "flag": "audience_quality", "comment": "sent five times at once"}
    answers = await asyncio.gather(*(anonymous.post(f"{link['url']}/appeals", json=body) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
