"""The audit report through the gateway, real Kafka and PostgreSQL: a creator ingested through
discovery with a bought-looking follower spike, its follower sample and comments through audit's
bulk API, an audit run, and its report as HTML (also opened in headless Chromium through
Playwright) and as PDF.

The Chromium test saves a screenshot to a temporary folder; with LIMELIGHT_REFRESH_SCREENSHOTS=1
it refreshes docs/images/audit-report.png (the README's) instead.
"""

import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright

from services.audit.report.pdf import find_chromium
from tests.audit.flow import DAY, finished, followers, ingest_creator, post_comments, post_followers
from tests.conftest import unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "images" / "audit-report.png"
SCRIPT = "<script>alert('x')</script> buy followers here"
SPIKE = 3_000


def spiked_creator(handle: str) -> dict:
    """30 daily follower counts growing ~40 a day with +3,000 on day 20 and no post near it;
    eight posts in the last week. The account's own count goes on growing as the series did
    (discovery records it as one more point of the series)."""
    now = datetime.now(UTC).replace(microsecond=0)
    counts = [21_000 + 40 * i + (i * 7) % 11 + (SPIKE if i >= 20 else 0) for i in range(30)]
    return {
        "accounts": [{"platform": "instagram", "handle": handle,
                      "followers": counts[-1] + 40, "following": 300, "posts_count": 400}],
        "posts": [
            {"external_id": f"p{i}", "posted_at": (now - (i + 1) * DAY + timedelta(hours=2)).isoformat(), "type": "photo",
             "caption": f"Sourdough day {i}" + (" then casino night" if i == 3 else ""), "likes": 500 + 37 * i, "comments": 20 + i}
            for i in range(8)
        ],
        "follower_points": [
            {"observed_at": (now - (30 - i) * DAY).isoformat(), "followers": count} for i, count in enumerate(counts)
        ],
    }


@pytest_asyncio.fixture(scope="module")
async def report_audit(gateway) -> dict:
    """A completed audit of the spiked creator, with the pending one it replaced."""
    creator = await ingest_creator(gateway, spiked_creator(unique_handle()))
    creator_id = creator["id"]
    posts = (await gateway.get(f"/v1/discovery/creators/{creator_id}/posts")).json()["items"]
    await post_followers(gateway, followers(creator_id, 60, mass=12))
    texts = ["where did you get that pan?", "made it for my sister, she loved it", "nice pic", "wow", "🔥🔥"]
    comments = [
        {"post_id": posts[i % len(posts)]["id"], "author": f"fan_{i}", "text": texts[i % len(texts)],
         "commented_at": (datetime.now(UTC) - timedelta(hours=i + 1)).isoformat()}
        for i in range(20)
    ] + [
        {"post_id": p["id"], "author": f"spam_{k}", "text": SCRIPT, "commented_at": datetime.now(UTC).isoformat()}
        for k, p in enumerate(posts[:2])
    ]
    await post_comments(gateway, comments)
    pending = (await gateway.get("/v1/audit/audits", params={"creator_id": creator_id})).json()["items"]
    requested = await gateway.post("/v1/audit/audits", json={"creator_id": creator_id})
    assert requested.status_code in (200, 202), requested.text
    done = await finished(gateway, requested.json()["id"], timeout=60)
    assert done["status"] == "completed", done
    return {"audit": done, "creator": creator, "pending": pending}


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium(os.environ.get("AUDIT_REPORT_CHROMIUM"))
    assert found, "Chromium is needed: apt-get install chromium (./limelight test checks this first)"
    return found


async def test_the_report_of_a_completed_audit_is_a_self_contained_page(gateway, report_audit):
    audit = report_audit["audit"]
    response = await gateway.get(f"/v1/audit/audits/{audit['id']}/report")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "style-src 'unsafe-inline'" in policy and "script" not in policy
    # The JSON routes keep the API's policy: only the page's path gets styles.
    json_policy = (await gateway.get(f"/v1/audit/audits/{audit['id']}")).headers["content-security-policy"]
    assert json_policy.startswith("default-src 'none'") and "style-src" not in json_policy
    html = response.text
    assert f"@{report_audit['creator']['accounts'][0]['handle']}" in html
    assert len(re.findall(r'<svg[^>]* role="img"', html)) == 3
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; buy followers here" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)""", html)
    (anomaly,) = [a for s in audit["signals"] if s["name"] == "growth" for a in s["details"]["anomalies"]]
    assert anomaly["cause"] == "unexplained" and anomaly["change"] >= SPIKE
    assert f"{anomaly['change']:+,}" in html and "Unexplained (likely bought)" in html
    assert audit["grade"] in html and audit["versions"]["model"] in html
    # Disclosure assessed (no post sponsored), brand safety checked: both sections say so.
    assert "Not assessed" not in html
    assert "recent captions" in _section(html, "brand-safety")


async def test_the_report_prints_to_pdf(gateway, report_audit):
    response = await gateway.get(f"/v1/audit/audits/{report_audit['audit']['id']}/report", params={"format": "pdf"},
                                 timeout=90)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and b"%%EOF" in response.content[-1024:]


async def test_a_pending_audit_has_no_report_yet(gateway, report_audit):
    # The request above ran the creator's automatic audit; a new request makes a pending one
    # that waits for nothing (it may run at once), so the check uses a fresh creator's automatic
    # audit, pending for its settle delay.
    creator = await ingest_creator(gateway, spiked_creator(unique_handle()))
    (pending,) = (await gateway.get("/v1/audit/audits", params={"creator_id": creator["id"]})).json()["items"]
    assert pending["status"] == "pending"
    response = await gateway.get(f"/v1/audit/audits/{pending['id']}/report")
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "conflict" and "is pending" in response.json()["detail"]


async def test_an_unknown_format_or_audit_is_refused_naming_it(gateway, report_audit):
    bad = await gateway.get(f"/v1/audit/audits/{report_audit['audit']['id']}/report", params={"format": "docx"})
    assert bad.status_code == 422, bad.text
    assert [d["field"] for d in bad.json()["detail"]] == ["query.format"]
    missing = await gateway.get(f"/v1/audit/audits/{uuid.uuid4()}/report")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


async def test_the_report_renders_in_headless_chromium_with_visible_charts_and_no_errors(
    gateway, report_audit, chromium, tmp_path
):
    url = f"{gateway.base_url}/v1/audit/audits/{report_audit['audit']['id']}/report"
    problems: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox"] if os.geteuid() == 0 else []
        )
        try:
            context = await browser.new_context(
                viewport={"width": 1100, "height": 900},
                extra_http_headers={"Authorization": gateway.headers["authorization"]},
            )
            page = await context.new_page()
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            response = await page.goto(url, wait_until="load")
            assert response.status == 200
            for chart in ("growth", "audience", "engagement"):
                svg = page.locator(f"section#{chart} svg[role=img]")
                await svg.wait_for(state="visible")
                box = await svg.bounding_box()
                assert box and box["width"] > 400 and box["height"] > 80, (chart, box)
                assert await svg.locator("path").count() > 5
            # The page's stylesheet applied (the gateway's policy lets inline styles through).
            radius = await page.locator(".grade").evaluate("e => getComputedStyle(e).borderTopLeftRadius")
            assert radius == "50%"
            assert await page.evaluate("document.scripts.length") == 0
            assert requested == [url], requested  # nothing else was fetched
            target = SCREENSHOT if os.environ.get("LIMELIGHT_REFRESH_SCREENSHOTS") == "1" else tmp_path / "report.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 10_000
        finally:
            await browser.close()
    assert problems == []


def _section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no section {name}"
    return match.group(1)


async def test_the_report_shows_brand_safety_hits_of_the_default_list_and_only_the_callers_own_lists(
    gateway, other_gateway, report_audit
):
    word = f"crumbco{uuid.uuid4().hex[:8]}"
    made = await gateway.post("/v1/audit/brand-safety/lists", json={
        "name": f"rivals {word}", "category": "competitor_brands", "terms": [word]})
    assert made.status_code == 201, made.text
    comment = {"post_id": (await gateway.get(f"/v1/discovery/creators/{report_audit['creator']['id']}/posts")).json()["items"][0]["id"],
               "author": "rival_fan", "text": f"try {word} instead", "commented_at": datetime.now(UTC).isoformat()}
    await post_comments(gateway, [comment])
    audit_id = report_audit["audit"]["id"]

    mine = _section((await gateway.get(f"/v1/audit/audits/{audit_id}/report")).text, "brand-safety")
    assert "casino" in mine and "gambling" in mine  # the default list, in a caption
    assert word in mine and "competitor_brands" in mine  # this tenant's own list, in a comment
    theirs = _section((await other_gateway.get(f"/v1/audit/audits/{audit_id}/report")).text, "brand-safety")
    assert "casino" in theirs
    assert word not in theirs and "competitor_brands" not in theirs
