"""A brand manager's whole shortlist workflow through the gateway: creators of the index (written
by tests/discovery/factory.py), shortlisted, worked through the pipeline, reported and exported;
the export agrees with the index, the list and the report."""

import csv
import io
import uuid

import pytest

from tests.conftest import unique_handle
from tests.discovery.factory import insert_creator

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

SHORTLISTS = "/v1/discovery/shortlists"

CREATORS = [
    {"followers": 4_000, "engagement_rate": 0.081, "country": "DE", "audit_score": 91.0, "display_name": "Nano Nora"},
    {"followers": 45_000, "engagement_rate": 0.052, "country": "FR", "audit_score": 78.5, "display_name": "Micro Max"},
    {"followers": 230_000, "engagement_rate": 0.021, "country": "US", "audit_score": None, "display_name": "Mid Mia"},
    {"followers": 2_400_000, "engagement_rate": 0.009, "country": "GB", "audit_score": 64.0, "display_name": "=Mega"},
]
# Where each creator ends up, and through which moves.
MOVES = [["contacted", "replied", "negotiating", "contracted"], ["contacted", "declined"], ["contacted"], []]
TIERS = ["nano", "micro", "mid", "mega"]


async def test_a_shortlist_is_built_worked_reported_and_exported(gateway, discovery_db):
    niche = f"e2e-{uuid.uuid4().hex[:8]}"
    made = [
        await insert_creator(discovery_db, handle=unique_handle("e2e"), niches=[niche], **fields) for fields in CREATORS
    ]
    created = await gateway.post(SHORTLISTS, json={"name": f"Autumn {niche}"})
    assert created.status_code == 201, created.text
    shortlist = created.json()["id"]
    for i, (creator, moves) in enumerate(zip(made, MOVES)):
        url = f"{SHORTLISTS}/{shortlist}/creators/{creator}"
        added = await gateway.put(url, json={"note": f"pick {i}", "tags": ["autumn", "eu" if i < 2 else "row"]})
        assert added.status_code == 201, added.text
        for stage in moves:
            moved = await gateway.patch(url, json={"stage": stage})
            assert moved.status_code == 200, moved.text

    listed = (await gateway.get(f"{SHORTLISTS}/{shortlist}/creators", params={"tag": "eu"})).json()["items"]
    assert [e["creator_id"] for e in listed] == [str(c) for c in made[:2]]

    report = (await gateway.get(f"{SHORTLISTS}/{shortlist}/report")).json()
    stages = {s["stage"]: s for s in report["stages"]}
    assert report["entries"] == 4 and report["contracted_rate"] == 0.25
    assert [stages[s]["reached"] for s in ("prospect", "contacted", "replied", "negotiating", "contracted")] == [
        4, 3, 1, 1, 1,
    ]
    assert report["time_to_reply"]["samples"] == 1

    exported = await gateway.get(f"{SHORTLISTS}/{shortlist}/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert f"shortlist-Autumn-{niche}-" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    assert [r["creator_id"] for r in rows] == [str(c) for c in made]
    for row, fields, tier, moves in zip(rows, CREATORS, TIERS, MOVES):
        summary = (await gateway.get(f"/v1/discovery/creators/{row['creator_id']}")).json()
        assert row["handle"] == summary["handle"] and row["platform"] == summary["platform"]
        assert row["display_name"] == ("'" if fields["display_name"].startswith("=") else "") + fields["display_name"]
        assert (row["followers"], row["tier"], row["country"]) == (str(fields["followers"]), tier, fields["country"])
        assert float(row["engagement_rate"]) == fields["engagement_rate"]
        assert row["audit_score"] == ("" if fields["audit_score"] is None else str(fields["audit_score"]))
        assert row["stage"] == (moves[-1] if moves else "prospect")
    assert [r["stage"] for r in rows] == [s["stage"] for s in listed] + ["contacted", "prospect"]
