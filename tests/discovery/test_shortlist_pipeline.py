"""A shortlist as an outreach pipeline, through the gateway: stages and their moves, the history
of each move, filters and pages of the entries, what is refused, and whose it all is."""

import uuid
from datetime import datetime, timedelta

import pytest

from services.discovery.shortlist.stages import ALLOWED, Stage
from tests.conftest import unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

SHORTLISTS = "/v1/discovery/shortlists"

# One way to bring a new entry (a prospect) to each stage.
PATH_TO = {
    Stage.prospect: [],
    Stage.contacted: [Stage.contacted],
    Stage.replied: [Stage.contacted, Stage.replied],
    Stage.negotiating: [Stage.contacted, Stage.replied, Stage.negotiating],
    Stage.contracted: [Stage.contacted, Stage.replied, Stage.negotiating, Stage.contracted],
    Stage.declined: [Stage.declined],
}


async def new_shortlist(client) -> str:
    response = await client.post(SHORTLISTS, json={"name": f"pipeline-{uuid.uuid4().hex[:10]}"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def new_creator(client) -> str:
    response = await client.post("/v1/discovery/creators", json={"platform": "instagram", "handle": unique_handle("pipe")})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def add(client, shortlist: str, creator: str | None = None, **body) -> str:
    creator = creator or await new_creator(client)
    response = await client.put(f"{SHORTLISTS}/{shortlist}/creators/{creator}", json=body)
    assert response.status_code == 201, response.text
    return creator


async def move(client, shortlist: str, creator: str, stage: Stage | str, **body):
    return await client.patch(f"{SHORTLISTS}/{shortlist}/creators/{creator}", json={"stage": str(stage), **body})


async def history(client, shortlist: str, creator: str) -> list[dict]:
    response = await client.get(f"{SHORTLISTS}/{shortlist}/creators/{creator}/history", params={"limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def fields(response) -> list[str]:
    return [problem["field"] for problem in response.json()["detail"]]


async def test_a_new_entry_is_a_prospect_with_its_arrival_in_the_history(gateway):
    shortlist = await new_shortlist(gateway)
    creator = await new_creator(gateway)
    added = await gateway.put(f"{SHORTLISTS}/{shortlist}/creators/{creator}", json={"note": "n"})
    assert added.status_code == 201
    assert added.json()["stage"] == "prospect" and added.json()["stage_since"] == added.json()["added_at"]
    [arrival] = await history(gateway, shortlist, creator)
    assert arrival["from_stage"] is None and arrival["to_stage"] == "prospect"
    assert arrival["at"] == added.json()["added_at"] and arrival["by"].startswith("key:")


async def test_every_allowed_move_is_made_and_every_other_is_refused_naming_both_stages(gateway):
    shortlist = await new_shortlist(gateway)
    for source in Stage:
        for target in Stage:
            if target == source:
                continue
            creator = await add(gateway, shortlist)
            for step in PATH_TO[source]:
                assert (await move(gateway, shortlist, creator, step)).status_code == 200
            response = await move(gateway, shortlist, creator, target)
            if target in ALLOWED[source]:
                assert response.status_code == 200, (source, target, response.text)
                assert response.json()["stage"] == target
            else:
                assert response.status_code == 409, (source, target, response.text)
                [problem] = response.json()["detail"]
                assert problem["field"] == "body.stage"
                assert f"from {source} to {target}" in problem["reason"], problem
                entry = (await gateway.get(f"{SHORTLISTS}/{shortlist}/creators", params={"limit": 200})).json()
                assert next(e for e in entry["items"] if e["creator_id"] == creator)["stage"] == source


async def test_the_moves_allowed_are_the_documented_pipeline():
    """The table the API enforces, written out: a change to it is a change to the guide."""
    assert {s: sorted(t) for s, t in ALLOWED.items()} == {
        Stage.prospect: ["contacted", "declined"],
        Stage.contacted: ["contracted", "declined", "negotiating", "replied"],
        Stage.replied: ["contracted", "declined", "negotiating"],
        Stage.negotiating: ["contracted", "declined"],
        Stage.contracted: [],
        Stage.declined: ["contacted", "prospect"],
    }


async def test_each_move_is_kept_in_order_with_its_time_author_and_note(gateway):
    shortlist = await new_shortlist(gateway)
    creator = await add(gateway, shortlist)
    before = datetime.now().astimezone()
    contacted = await move(gateway, shortlist, creator, Stage.contacted, change_note="DM on Instagram")
    declined = await move(gateway, shortlist, creator, Stage.declined, change_note="no budget this quarter")
    reopened = await move(gateway, shortlist, creator, Stage.contacted)
    after = datetime.now().astimezone()
    changes = await history(gateway, shortlist, creator)
    assert [(c["from_stage"], c["to_stage"], c["note"]) for c in changes] == [
        (None, "prospect", None),
        ("prospect", "contacted", "DM on Instagram"),
        ("contacted", "declined", "no budget this quarter"),
        ("declined", "contacted", None),
    ]
    times = [datetime.fromisoformat(c["at"]) for c in changes]
    assert times == sorted(times)
    assert before - timedelta(seconds=5) <= times[1] <= times[3] <= after + timedelta(seconds=5)
    assert [contacted.json()["stage_since"], declined.json()["stage_since"], reopened.json()["stage_since"]] == [
        c["at"] for c in changes[1:]
    ]
    assert {c["by"] for c in changes} == {changes[0]["by"]}


async def test_moving_to_the_stage_an_entry_is_at_changes_nothing(gateway):
    shortlist = await new_shortlist(gateway)
    creator = await add(gateway, shortlist)
    first = await move(gateway, shortlist, creator, Stage.contacted)
    again = await move(gateway, shortlist, creator, Stage.contacted, change_note="retried")
    assert again.status_code == 200 and again.json() == first.json()
    assert len(await history(gateway, shortlist, creator)) == 2


async def test_note_and_tags_change_without_touching_the_stage(gateway):
    shortlist = await new_shortlist(gateway)
    creator = await add(gateway, shortlist, note="first", tags=["a"])
    await move(gateway, shortlist, creator, Stage.contacted)
    url = f"{SHORTLISTS}/{shortlist}/creators/{creator}"
    tagged = await gateway.patch(url, json={"tags": ["EU", "eu", "Beauty"]})
    assert tagged.status_code == 200
    assert tagged.json()["tags"] == ["eu", "beauty"] and tagged.json()["note"] == "first"
    assert tagged.json()["stage"] == "contacted"
    cleared = await gateway.patch(url, json={"note": None})
    assert cleared.json()["note"] is None and cleared.json()["tags"] == ["eu", "beauty"]
    # A PUT replaces note and tags; the stage is the pipeline's, it stays.
    replaced = await gateway.put(url, json={"note": "again"})
    assert replaced.status_code == 200 and replaced.json()["stage"] == "contacted" and replaced.json()["tags"] == []
    assert len(await history(gateway, shortlist, creator)) == 2


async def test_bad_updates_are_refused_naming_the_field(gateway):
    shortlist = await new_shortlist(gateway)
    creator = await add(gateway, shortlist)
    url = f"{SHORTLISTS}/{shortlist}/creators/{creator}"
    cases = [
        ({"stage": "ghosted"}, "body.stage"), ({"stage": None}, "body.stage"), ({"tags": None}, "body.tags"),
        ({"tags": ["x" * 51]}, "body.tags.0"), ({"note": "n" * 2001}, "body.note"),
        ({"change_note": "a\x00b", "stage": "contacted"}, "body.change_note"), ({"colour": "red"}, "body.colour"),
    ]
    for body, field in cases:
        response = await gateway.patch(url, json=body)
        assert response.status_code == 422 and field in fields(response), (body, response.text)
    assert len(await history(gateway, shortlist, creator)) == 1


async def test_an_entry_that_is_not_on_the_shortlist_has_no_history_and_cannot_move(gateway):
    shortlist = await new_shortlist(gateway)
    creator = await new_creator(gateway)
    assert (await move(gateway, shortlist, creator, Stage.contacted)).status_code == 404
    response = await gateway.get(f"{SHORTLISTS}/{shortlist}/creators/{creator}/history")
    assert response.status_code == 404 and "is not on shortlist" in response.json()["detail"]
    assert (await gateway.get(f"{SHORTLISTS}/{uuid.uuid4()}/creators/{creator}/history")).status_code == 404


async def test_removing_an_entry_removes_its_history(gateway, discovery_db):
    shortlist = await new_shortlist(gateway)
    creator = await add(gateway, shortlist)
    await move(gateway, shortlist, creator, Stage.contacted)
    assert (await gateway.delete(f"{SHORTLISTS}/{shortlist}/creators/{creator}")).status_code == 204
    left = await discovery_db.fetchval(
        "SELECT count(*) FROM discovery.shortlist_stage_changes WHERE shortlist_id = $1 AND creator_id = $2",
        uuid.UUID(shortlist), uuid.UUID(creator),
    )
    assert left == 0
    again = await add(gateway, shortlist, creator)
    assert [c["to_stage"] for c in await history(gateway, shortlist, again)] == ["prospect"]


async def test_entries_filter_by_stage_and_tag_and_page_by_cursor(gateway):
    shortlist = await new_shortlist(gateway)
    made = []
    for i in range(7):
        creator = await add(gateway, shortlist, tags=["eu"] if i % 2 == 0 else ["us"])
        if i < 5:
            await move(gateway, shortlist, creator, Stage.contacted)
        made.append(creator)

    async def every(**params) -> list[str]:
        seen, cursor = [], None
        while True:
            query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
            response = await gateway.get(f"{SHORTLISTS}/{shortlist}/creators", params=query)
            assert response.status_code == 200, response.text
            seen += [e["creator_id"] for e in response.json()["items"]]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                return seen

    assert await every() == made
    assert await every(stage="contacted") == made[:5]
    assert await every(stage="prospect") == made[5:]
    assert await every(tag="EU") == made[0::2]
    assert await every(stage="contacted", tag="us") == [made[1], made[3]]
    assert await every(stage="contracted") == []


async def test_bad_filters_are_refused_naming_the_parameter(gateway):
    shortlist = await new_shortlist(gateway)
    for params, field in [({"stage": "ghosted"}, "query.stage"), ({"tag": "x" * 51}, "query.tag"),
                          ({"tag": "   "}, "query.tag"), ({"limit": 0}, "query.limit")]:
        response = await gateway.get(f"{SHORTLISTS}/{shortlist}/creators", params=params)
        assert response.status_code == 422 and field in fields(response), (params, response.text)


async def test_the_history_pages_by_cursor(gateway):
    shortlist = await new_shortlist(gateway)
    creator = await add(gateway, shortlist)
    for stage in [Stage.contacted, Stage.declined, Stage.prospect, Stage.contacted, Stage.replied]:
        assert (await move(gateway, shortlist, creator, stage)).status_code == 200
    url = f"{SHORTLISTS}/{shortlist}/creators/{creator}/history"
    first = (await gateway.get(url, params={"limit": 4})).json()
    second = (await gateway.get(url, params={"limit": 4, "cursor": first["next_cursor"]})).json()
    assert second["next_cursor"] is None
    assert [c["to_stage"] for c in first["items"] + second["items"]] == [
        "prospect", "contacted", "declined", "prospect", "contacted", "replied",
    ]


async def test_another_tenant_can_neither_see_nor_move_an_entry(gateway, other_gateway):
    shortlist = await new_shortlist(gateway)
    creator = await add(gateway, shortlist)
    entry = f"{SHORTLISTS}/{shortlist}/creators/{creator}"
    assert (await other_gateway.patch(entry, json={"stage": "contacted"})).status_code == 404
    assert (await other_gateway.get(f"{entry}/history")).status_code == 404
    assert (await other_gateway.get(f"{SHORTLISTS}/{shortlist}/creators", params={"stage": "prospect"})).status_code == 404
    assert (await other_gateway.get(f"{SHORTLISTS}/{shortlist}/report")).status_code == 404
    assert (await other_gateway.get(f"{SHORTLISTS}/{shortlist}/export.csv")).status_code == 404
    assert [c["to_stage"] for c in await history(gateway, shortlist, creator)] == ["prospect"]
