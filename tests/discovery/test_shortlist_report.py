"""A shortlist's outreach report through the gateway, figure by figure on a small pipeline whose
history times are set in the database (the moves are made through the API, then dated)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

SHORTLISTS = "/v1/discovery/shortlists"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Each entry's moves after its arrival, with the second (after T0) of every history row,
# arrival first.
PIPELINE = {
    "a": (["contacted", "replied", "negotiating", "contracted"], [0, 100, 400, 1000, 2000]),
    "b": (["contacted", "negotiating"], [0, 200, 1200]),  # a reply that opened negotiation at once
    "c": (["contacted", "declined"], [0, 50, 150]),
    "d": (["declined", "contacted", "replied"], [0, 500, 800, 900]),  # declined, then reopened
    "e": ([], [0]),
}


async def new_shortlist(client) -> str:
    response = await client.post(SHORTLISTS, json={"name": f"report-{uuid.uuid4().hex[:10]}"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def dated_entry(client, db, shortlist: str, moves: list[str], seconds: list[int]) -> str:
    created = await client.post("/v1/discovery/creators", json={"platform": "tiktok", "handle": unique_handle("rep")})
    creator = created.json()["id"]
    assert (await client.put(f"{SHORTLISTS}/{shortlist}/creators/{creator}", json={})).status_code == 201
    for stage in moves:
        moved = await client.patch(f"{SHORTLISTS}/{shortlist}/creators/{creator}", json={"stage": stage})
        assert moved.status_code == 200, moved.text
    ids = await db.fetch(
        "SELECT id FROM discovery.shortlist_stage_changes WHERE shortlist_id = $1 AND creator_id = $2 ORDER BY id",
        uuid.UUID(shortlist), uuid.UUID(creator),
    )
    assert len(ids) == len(seconds)
    for row, second in zip(ids, seconds):
        await db.execute(
            "UPDATE discovery.shortlist_stage_changes SET at = $1 WHERE id = $2", T0 + timedelta(seconds=second), row["id"]
        )
    return creator


def by_stage(report: dict) -> dict[str, dict]:
    return {figures["stage"]: figures for figures in report["stages"]}


def durations(samples: int, median: float | None, mean: float | None) -> dict:
    return {"samples": samples, "median_seconds": median, "mean_seconds": mean}


async def test_the_report_counts_converts_and_times_each_stage(gateway, discovery_db):
    shortlist = await new_shortlist(gateway)
    for moves, seconds in PIPELINE.values():
        await dated_entry(gateway, discovery_db, shortlist, moves, seconds)
    response = await gateway.get(f"{SHORTLISTS}/{shortlist}/report")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["shortlist_id"] == shortlist and report["entries"] == 5
    assert [s["stage"] for s in report["stages"]] == [
        "prospect", "contacted", "replied", "negotiating", "contracted", "declined",
    ]
    stages = by_stage(report)
    assert {s: f["now"] for s, f in stages.items()} == {
        "prospect": 1, "contacted": 0, "replied": 1, "negotiating": 1, "contracted": 1, "declined": 1,
    }
    # Skipped stages count as passed through (b reached replied); declined counts c and d.
    assert {s: f["reached"] for s, f in stages.items()} == {
        "prospect": 5, "contacted": 4, "replied": 3, "negotiating": 2, "contracted": 1, "declined": 2,
    }
    assert {s: f["conversion_from_previous"] for s, f in stages.items()} == {
        "prospect": None, "contacted": 0.8, "replied": 0.75, "negotiating": pytest.approx(2 / 3),
        "contracted": 0.5, "declined": None,
    }
    # Completed stays only: d still at replied, b at negotiating, c at declined, e at prospect.
    assert stages["prospect"]["time_in_stage"] == durations(4, 150.0, 212.5)
    assert stages["contacted"]["time_in_stage"] == durations(4, 200.0, 375.0)
    assert stages["replied"]["time_in_stage"] == durations(1, 600.0, 600.0)
    assert stages["negotiating"]["time_in_stage"] == durations(1, 1000.0, 1000.0)
    assert stages["contracted"]["time_in_stage"] == durations(0, None, None)
    assert stages["declined"]["time_in_stage"] == durations(1, 300.0, 300.0)
    # From contacted to a reply (a, b, d's reopened contact); c's decline is not a reply.
    assert report["time_to_reply"] == durations(3, 300.0, pytest.approx(1400 / 3))
    assert report["contracted_rate"] == 0.2


async def test_an_empty_shortlist_reports_zeros_and_no_ratios(gateway):
    shortlist = await new_shortlist(gateway)
    report = (await gateway.get(f"{SHORTLISTS}/{shortlist}/report")).json()
    assert report["entries"] == 0 and report["contracted_rate"] is None
    assert report["time_to_reply"] == durations(0, None, None)
    for figures in report["stages"]:
        assert (figures["now"], figures["reached"], figures["conversion_from_previous"]) == (0, 0, None)


async def test_a_report_follows_the_moves_as_they_are_made(gateway, discovery_db):
    shortlist = await new_shortlist(gateway)
    creator = await dated_entry(gateway, discovery_db, shortlist, [], [0])
    url = f"{SHORTLISTS}/{shortlist}/creators/{creator}"
    assert by_stage((await gateway.get(f"{SHORTLISTS}/{shortlist}/report")).json())["contacted"]["reached"] == 0
    assert (await gateway.patch(url, json={"stage": "contacted"})).status_code == 200
    report = (await gateway.get(f"{SHORTLISTS}/{shortlist}/report")).json()
    stages = by_stage(report)
    assert (stages["contacted"]["now"], stages["contacted"]["reached"], stages["prospect"]["now"]) == (1, 1, 0)
    assert stages["contacted"]["conversion_from_previous"] == 1.0
    # The prospect stay ended now: its length is the time since T0 (the arrival was dated).
    stayed = stages["prospect"]["time_in_stage"]["median_seconds"]
    assert stayed == pytest.approx((datetime.now(UTC) - T0).total_seconds(), abs=60)
    assert (await gateway.delete(url)).status_code == 204
    assert (await gateway.get(f"{SHORTLISTS}/{shortlist}/report")).json()["entries"] == 0


async def test_the_report_of_an_unknown_shortlist_is_a_404(gateway):
    response = await gateway.get(f"{SHORTLISTS}/{uuid.uuid4()}/report")
    assert response.status_code == 404
    bad = await gateway.get(f"{SHORTLISTS}/not-an-id/report")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "path.shortlist_id"
