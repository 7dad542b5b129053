"""A shortlist's CSV export through the gateway: its headers, one row per entry with the
creator's figures and the pipeline's, quoting, formula injection neutralised, filters, scope."""

import csv
import io
import uuid
from datetime import datetime

import httpx
import pytest

from services.discovery.shortlist.export import HEADER, neutralise
from tests.conftest import ServiceIdentity, unique_handle
from tests.discovery.factory import insert_creator

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

SHORTLISTS = "/v1/discovery/shortlists"


async def new_shortlist(client, name: str | None = None) -> str:
    response = await client.post(SHORTLISTS, json={"name": name or f"export-{uuid.uuid4().hex[:10]}"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def put(client, shortlist: str, creator, **body) -> None:
    response = await client.put(f"{SHORTLISTS}/{shortlist}/creators/{creator}", json=body)
    assert response.status_code == 201, response.text


def parsed(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


async def test_the_export_is_a_csv_file_with_a_row_per_entry(gateway, discovery_db):
    shortlist = await new_shortlist(gateway)
    handle = unique_handle("csv")
    creator = await insert_creator(
        discovery_db, platform="youtube", handle=handle, display_name="Ada Bakes", followers=120_000,
        engagement_rate=0.0425, country="FR", audit_score=87.5, contact={"email": "ada@example.com"},
    )
    await put(gateway, shortlist, creator, note="loves sourdough", tags=["eu", "baking"])
    moved = await gateway.patch(f"{SHORTLISTS}/{shortlist}/creators/{creator}", json={"stage": "contacted"})
    response = await gateway.get(f"{SHORTLISTS}/{shortlist}/export.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == ",".join(f'"{name}"' for name in HEADER)
    [row] = parsed(response)
    assert row == {
        "creator_id": str(creator), "display_name": "Ada Bakes", "platform": "youtube", "handle": handle,
        "followers": "120000", "tier": "mid", "engagement_rate": "0.0425", "country": "FR", "audit_score": "87.5",
        "contactable": row["contactable"], "stage": "contacted", "stage_since": row["stage_since"],
        "note": "loves sourdough", "tags": "eu, baking", "added_at": row["added_at"],
    }
    assert row["contactable"] in ("true", "false")
    assert datetime.fromisoformat(row["stage_since"]) == datetime.fromisoformat(moved.json()["stage_since"])
    assert datetime.fromisoformat(row["added_at"]) == datetime.fromisoformat(moved.json()["added_at"])
    assert "ada@example.com" not in response.text  # private contact data is never exported


async def test_the_file_is_named_after_the_shortlist(gateway):
    name = f"Spring launch é {uuid.uuid4().hex[:6]}"
    shortlist = await new_shortlist(gateway, name)
    disposition = (await gateway.get(f"{SHORTLISTS}/{shortlist}/export.csv")).headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    slug = name.replace(" é ", "-").replace(" ", "-")
    assert f'filename="shortlist-{slug}-' in disposition
    assert "filename*=UTF-8''shortlist-Spring%20launch%20%C3%A9%20" in disposition


@pytest.mark.parametrize("dangerous", ["=1+2", "+SUM(A1:A9)", "-2+3", "@cmd", "\tTAB", "\rCR",
                                       '=HYPERLINK("http://evil.example","click")'])
async def test_cells_a_spreadsheet_would_run_are_neutralised(gateway, discovery_db, dangerous):
    shortlist = await new_shortlist(gateway)
    creator = await insert_creator(discovery_db, display_name=dangerous)
    await put(gateway, shortlist, creator, note=dangerous if not dangerous.startswith("\r") else None,
              tags=[dangerous.strip()])
    [row] = parsed(await gateway.get(f"{SHORTLISTS}/{shortlist}/export.csv"))
    assert row["display_name"] == "'" + dangerous
    if not dangerous.startswith("\r"):
        assert row["note"] == "'" + dangerous
    assert row["tags"] == neutralise(dangerous.strip().lower())


async def test_commas_quotes_and_line_breaks_stay_inside_their_cell(gateway, discovery_db):
    shortlist = await new_shortlist(gateway)
    tricky = 'said "yes", then\nasked for more, x'
    creator = await insert_creator(discovery_db, display_name='Bo, "the" baker')
    await put(gateway, shortlist, creator, note=tricky, tags=["a,b"])
    response = await gateway.get(f"{SHORTLISTS}/{shortlist}/export.csv")
    [row] = parsed(response)
    assert (row["display_name"], row["note"], row["tags"]) == ('Bo, "the" baker', tricky, "a,b")
    assert '"said ""yes"", then' in response.text


async def test_the_rule_follows_owasp():
    assert [neutralise(s) for s in ["=a", "+a", "-a", "@a", "\ta", "\ra", "a=b", " =a", "'a", ""]] == [
        "'=a", "'+a", "'-a", "'@a", "'\ta", "'\ra", "a=b", " =a", "'a", "",
    ]


async def test_every_entry_is_exported_in_order_past_one_page(gateway, discovery_db):
    """More entries than the export reads at once (export.PAGE): the pages join without a gap."""
    shortlist = await new_shortlist(gateway)
    made = [await insert_creator(discovery_db, followers=1000 + i) for i in range(510)]
    await discovery_db.executemany(
        "INSERT INTO discovery.shortlist_entries (shortlist_id, creator_id, tenant_id, created_at) "
        "SELECT $1, $2, tenant_id, now() + make_interval(secs => $3) FROM discovery.shortlists WHERE id = $1",
        [(uuid.UUID(shortlist), creator, i) for i, creator in enumerate(made)],
    )
    rows = parsed(await gateway.get(f"{SHORTLISTS}/{shortlist}/export.csv"))
    assert [r["creator_id"] for r in rows] == [str(c) for c in made]


async def test_the_export_filters_by_stage_and_tag(gateway, discovery_db):
    shortlist = await new_shortlist(gateway)
    first, second, third = [await insert_creator(discovery_db) for _ in range(3)]
    await put(gateway, shortlist, first, tags=["eu"])
    await put(gateway, shortlist, second, tags=["us"])
    await put(gateway, shortlist, third, tags=["eu"])
    await gateway.patch(f"{SHORTLISTS}/{shortlist}/creators/{third}", json={"stage": "contacted"})
    url = f"{SHORTLISTS}/{shortlist}/export.csv"
    assert [r["creator_id"] for r in parsed(await gateway.get(url, params={"tag": "EU"}))] == [str(first), str(third)]
    contacted = parsed(await gateway.get(url, params={"stage": "contacted"}))
    assert [r["creator_id"] for r in contacted] == [str(third)]
    empty = await gateway.get(url, params={"stage": "contracted"})
    assert empty.status_code == 200 and empty.text == ",".join(f'"{h}"' for h in HEADER) + "\r\n"
    bad = await gateway.get(url, params={"stage": "nope"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "query.stage"


async def test_the_export_needs_discovery_read_and_is_the_tenants_own(gateway, other_gateway, anonymous, platform):
    shortlist = await new_shortlist(gateway)
    url = f"{SHORTLISTS}/{shortlist}/export.csv"
    assert (await other_gateway.get(url)).status_code == 404
    assert (await anonymous.get(url)).status_code == 401
    writer = ServiceIdentity("discovery", tenant_id=uuid.uuid4(), scopes=["discovery:write"])
    async with httpx.AsyncClient(base_url=platform.s.url("discovery"), auth=writer) as client:
        refused = await client.get(f"/shortlists/{shortlist}/export.csv")
        assert refused.status_code == 403 and "discovery:read" in refused.text


async def test_the_export_is_documented_as_text_csv(gateway):
    document = (await gateway.get("/openapi.json")).json()
    operation = document["paths"][f"{SHORTLISTS}/{{shortlist_id}}/export.csv"]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["text/csv"]
    assert {scope for requirement in operation["security"] for scopes in requirement.values() for scope in scopes} == {
        "discovery:read"
    }
