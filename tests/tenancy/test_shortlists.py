"""Shortlists through the gateway: a tenant's own lists of creators from the shared catalogue."""

import uuid

import httpx
import pytest

from tests.conftest import ServiceIdentity

from tests.tenancy.conftest import new_name

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

SHORTLISTS = "/v1/discovery/shortlists"


async def make(client, **body) -> dict:
    response = await client.post(SHORTLISTS, json={"name": new_name(), **body})
    assert response.status_code == 201, response.text
    return response.json()


def fields(response) -> list[str]:
    return [problem["field"] for problem in response.json()["detail"]]


async def test_a_shortlist_is_created_read_renamed_and_deleted(gateway):
    made = await make(gateway, description="spring launch")
    assert made["description"] == "spring launch"
    read = await gateway.get(f"{SHORTLISTS}/{made['id']}")
    assert read.status_code == 200 and read.json() == made
    renamed = await gateway.patch(f"{SHORTLISTS}/{made['id']}", json={"name": "  renamed " + made["name"]})
    assert renamed.status_code == 200 and renamed.json()["name"] == "renamed " + made["name"]
    assert (await gateway.delete(f"{SHORTLISTS}/{made['id']}")).status_code == 204
    assert (await gateway.get(f"{SHORTLISTS}/{made['id']}")).status_code == 404


async def test_bad_shortlists_are_refused_naming_the_field(gateway):
    cases = [({"name": ""}, "body.name"), ({"name": "   "}, "body.name"), ({"name": "x" * 201}, "body.name"),
             ({"name": "ok", "colour": "red"}, "body.colour"), ({"name": "a\x00b"}, "body.name")]
    for body, field in cases:
        response = await gateway.post(SHORTLISTS, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in fields(response), (body, response.text)
    made = await make(gateway)
    response = await gateway.patch(f"{SHORTLISTS}/{made['id']}", json={"name": None})
    assert response.status_code == 422 and "body.name" in fields(response)


async def test_a_name_is_unique_within_a_tenant_but_not_across_tenants(gateway, other):
    made = await make(gateway)
    again = await gateway.post(SHORTLISTS, json={"name": made["name"]})
    assert again.status_code == 409 and "body.name" in fields(again)
    theirs = await other.post(SHORTLISTS, json={"name": made["name"]})
    assert theirs.status_code == 201


async def test_a_creator_is_added_with_a_note_and_tags_then_updated_and_removed(gateway, creator):
    shortlist = await make(gateway)
    entry_url = f"{SHORTLISTS}/{shortlist['id']}/creators/{creator['id']}"
    added = await gateway.put(entry_url, json={"note": "great reach", "tags": ["Beauty", "beauty", "EU"]})
    assert added.status_code == 201, added.text
    assert added.json()["tags"] == ["beauty", "eu"] and added.json()["handle"] == creator["handle"]
    replaced = await gateway.put(entry_url, json={"tags": ["us"]})
    assert replaced.status_code == 200
    assert replaced.json()["note"] is None and replaced.json()["tags"] == ["us"]
    listed = (await gateway.get(f"{SHORTLISTS}/{shortlist['id']}/creators")).json()
    assert [e["creator_id"] for e in listed["items"]] == [creator["id"]]
    assert (await gateway.delete(entry_url)).status_code == 204
    assert (await gateway.delete(entry_url)).status_code == 404
    assert (await gateway.get(f"{SHORTLISTS}/{shortlist['id']}/creators")).json()["items"] == []


async def test_only_creators_of_the_index_can_be_shortlisted(gateway):
    shortlist = await make(gateway)
    response = await gateway.put(f"{SHORTLISTS}/{shortlist['id']}/creators/{uuid.uuid4()}", json={})
    assert response.status_code == 404, response.text
    assert "is not in the index" in response.json()["detail"]


async def test_bad_entries_are_refused_naming_the_field(gateway, creator):
    shortlist = await make(gateway)
    url = f"{SHORTLISTS}/{shortlist['id']}/creators/{creator['id']}"
    for body, field in [({"tags": ["x" * 51]}, "body.tags.0"), ({"tags": [f"t{i}" for i in range(21)]}, "body.tags"),
                        ({"note": "n" * 2001}, "body.note"), ({"tags": "beauty"}, "body.tags")]:
        response = await gateway.put(url, json=body)
        assert response.status_code == 422 and field in fields(response), (body, response.text)


async def test_shortlists_and_entries_page_by_cursor(gateway, other, creator):
    # The other tenant's client starts with an empty workspace of shortlists it made itself.
    mine = [await make(other) for _ in range(3)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await other.get(SHORTLISTS, params=params)).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [s["id"] for s in mine] == [i for i in seen if i in {s["id"] for s in mine}]
    assert len(seen) == len(set(seen))
    shortlist = await make(gateway)
    extra = [(await gateway.post("/v1/discovery/creators", json={"platform": "x", "handle": new_name("p")})).json() for _ in range(2)]
    for c in [creator, *extra]:
        assert (await gateway.put(f"{SHORTLISTS}/{shortlist['id']}/creators/{c['id']}", json={})).status_code == 201
    first = (await gateway.get(f"{SHORTLISTS}/{shortlist['id']}/creators", params={"limit": 2})).json()
    second = (await gateway.get(f"{SHORTLISTS}/{shortlist['id']}/creators", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [e["creator_id"] for e in first["items"] + second["items"]] == [c["id"] for c in [creator, *extra]]
    assert second["next_cursor"] is None
    bad = await gateway.get(f"{SHORTLISTS}/{shortlist['id']}/creators", params={"cursor": "nonsense"})
    assert bad.status_code == 422 and fields(bad) == ["query.cursor"]


async def test_an_idempotency_key_replays_only_for_the_tenant_that_used_it(gateway, other):
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    body = {"name": new_name()}
    first = await gateway.post(SHORTLISTS, json=body, headers=key)
    replay = await gateway.post(SHORTLISTS, json=body, headers=key)
    assert first.status_code == replay.status_code == 201 and replay.json() == first.json()
    theirs = await other.post(SHORTLISTS, json=body, headers=key)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


async def test_reading_needs_discovery_read_and_changing_needs_discovery_write(platform):
    reader = ServiceIdentity("discovery", tenant_id=uuid.uuid4(), scopes=["discovery:read"])
    async with httpx.AsyncClient(base_url=platform.s.url("discovery"), auth=reader) as client:
        assert (await client.get("/shortlists")).status_code == 200
        refused = await client.post("/shortlists", json={"name": new_name()})
        assert refused.status_code == 403 and "discovery:write" in refused.text
