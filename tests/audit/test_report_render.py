"""The audit report page, rendered from stored audits (pure: no platform is started): its
sections, its inline charts, nothing loaded from elsewhere, untrusted text escaped, and the
follower series the growth signal keeps for the chart."""

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from services.audit.engine.signals.growth import SERIES_SHOWN, growth_signal
from services.audit.engine.types import FollowerPoint
from services.audit.report import pdf
from services.audit.report.render import render_html
from services.audit.report.view import CreatorHeader, PostRef
from tests.audit.report_audit import spiked_inputs, stored_audit

SCRIPT = "<script>alert('x')</script>"
SECTIONS = ("summary", "signals", "growth", "audience", "engagement", "comments", "pods", "compliance",
            "brand-safety", "method")


class Page(HTMLParser):
    """Every tag with its attributes, and the text of each section, as a browser would parse them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.ids.add(attributes["id"])


def disclosure_signal(caption: str = "Loving my new serum #ad") -> dict:
    posts = [
        {"post_id": "p-1", "external_id": "p1", "posted_at": "2026-03-20T10:00:00+00:00", "jurisdiction": "US",
         "verdict": "fail", "reason": "No clear disclosure above the fold.", "rule_id": "us-ftc-1",
         "source": "FTC Disclosures 101", "caption_excerpt": caption},
        {"post_id": "p-2", "external_id": "p2", "posted_at": "2026-03-21T10:00:00+00:00", "jurisdiction": "US",
         "verdict": "pass", "reason": "#ad at the start.", "rule_id": "us-ftc-2", "source": "FTC", "caption_excerpt": "#ad hi"},
    ]
    return {
        "status": "judged", "score": 50.0, "weight": 0.0, "confidence": 0.8, "evidence": ["1 of 2 sponsored posts pass."],
        "missing": [], "flags": ["disclosure_failed"],
        "details": {"jurisdictions": ["US"], "rule_versions": {"US": "ftc-2023-1"}, "sponsored_posts": 2, "passed": 1,
                    "failed": 1, "needs_review": 0, "compliance_rate": 0.5, "posts": posts},
    }


@pytest.fixture(scope="module")
def audit() -> dict:
    return stored_audit()


def section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no section {name}"
    return match.group(1)


def test_the_report_has_every_section_and_an_inline_svg_per_chart(audit):
    html = render_html(audit, creator=CreatorHeader("instagram", "maya", "Maya", 50_000))
    page = Page(html)
    assert set(SECTIONS) <= page.ids
    svgs = [a for t, a in page.tags if t == "svg"]
    assert len(svgs) == 3
    for chart in ("growth", "audience", "engagement"):
        svg = re.search(rf'<section id="{chart}"[^>]*>.*?(<svg[^>]*>)', html, re.S).group(1)
        assert 'role="img"' in svg and f'aria-labelledby="{chart}-title {chart}-desc"' in svg
        assert f'<title id="{chart}-title">' in html
    assert re.search(r"<text[^>]*>", html), "chart text stays text (svg.fonttype none), not glyph paths"
    # Ids stay unique across the three charts sharing the page.
    ids = [a["id"] for _, a in page.tags if "id" in a]
    assert len(ids) == len(set(ids))


def test_the_report_loads_nothing_and_runs_nothing(audit):
    html = render_html(audit)
    page = Page(html)
    assert not any(tag == "script" for tag, _ in page.tags)
    assert not any(tag in ("link", "img", "iframe", "object", "embed") for tag, _ in page.tags)
    for _, attributes in page.tags:
        for name, value in attributes.items():
            assert not name.startswith("on"), name
            if name in ("src", "href", "xlink:href", "action"):
                assert value is None or value.startswith("#"), (name, value)
    assert re.findall(r"url\(\s*['\"]?([^)'\"]*)", html) and all(
        u.startswith("#") for u in re.findall(r"url\(\s*['\"]?([^)'\"]*)", html)
    )
    assert "@import" not in html and "@font-face" not in html


def test_the_growth_chart_marks_and_labels_each_anomaly_with_date_size_and_cause(audit):
    html = render_html(audit)
    growth = next(s for s in audit["signals"] if s["name"] == "growth")
    anomalies = growth["details"]["anomalies"]
    assert [a["cause"] for a in anomalies] == ["unexplained", "giveaway"]
    chart = section(html, "growth")
    for n, a in enumerate(anomalies, 1):
        label = f"{n}. {a['end'][:10]}  {a['change']:+,}  {a['cause']}"
        assert label in chart.replace("&#160;", " ")  # matplotlib writes the double space as nbsp
        assert f"{a['change']:+,}" in chart
    assert "Unexplained (likely bought)" in chart and "Giveaway" in chart


def test_untrusted_text_is_escaped_everywhere_and_inert(audit):
    inputs = spiked_inputs()
    # A comment the comment signal shows as an example (the same words on two posts).
    comments = tuple(inputs.comments) + tuple(
        dataclasses.replace(inputs.comments[0], post_id=p.post_id, author=f"x{i}", text=SCRIPT + " buy followers here")
        for i, p in enumerate(inputs.posts[:3])
    )
    hostile = stored_audit(dataclasses.replace(inputs, comments=comments), disclosure=disclosure_signal(SCRIPT))
    growth = next(s for s in hostile["signals"] if s["name"] == "growth")
    cause_post = next(a["post_id"] for a in growth["details"]["anomalies"] if a["post_id"])
    html = render_html(
        hostile, creator=CreatorHeader("instagram", SCRIPT, SCRIPT, 1),
        posts={cause_post: PostRef("p<b>1</b>", "2026-03-20T10:00:00+00:00", SCRIPT)},
        brand_safety={"hits": [{"category": SCRIPT, "term": "x", "matched": SCRIPT, "list": "default", "where": "caption",
                                "post_id": None, "external_id": "p1", "posted_at": None, "excerpt": SCRIPT}]},
        appeals=[{"flag": "growth_spike_giveaway", "comment": SCRIPT, "status": "open", "resolution_note": None,
                  "resolved_at": None}],
    )
    page = Page(html)
    assert not any(tag in ("script", "b") for tag, _ in page.tags)
    assert "<script" not in html.lower()
    escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
    for where in ("comments", "compliance", "brand-safety", "appeals", "growth"):
        assert escaped in section(html, where), where
    assert html.count(escaped) >= 7


def test_insufficient_data_is_shown_as_such_and_not_drawn():
    thin = dataclasses.replace(spiked_inputs(), series=spiked_inputs().series[:3], followers=())
    html = render_html(stored_audit(thin))
    for name in ("growth", "audience"):
        part = section(html, name)
        assert "Insufficient data" in part and "<svg" not in part
    assert html.count("insufficient data") >= 2  # the signals table says it of both


def test_a_disclosure_signal_is_a_table_per_post_and_its_absence_says_not_assessed(audit):
    # An audit stored before the disclosure signal existed has none: not assessed.
    legacy = {**audit, "signals": [s for s in audit["signals"] if s["name"] != "disclosure"]}
    absent = section(render_html(legacy), "compliance")
    assert "Not assessed" in absent and "<table" not in absent
    # Assessed, and no post was sponsored: the signal's own words, no table.
    unsponsored = section(render_html(audit), "compliance")
    assert "Not assessed" not in unsponsored and "<table" not in unsponsored
    assert "sponsored" in unsponsored.lower()
    present = section(render_html(stored_audit(disclosure=disclosure_signal())), "compliance")
    assert "Not assessed" not in present
    rows = re.findall(r"<tr><td>(p\d)</td>.*?status-(\w+)", present, re.S)
    assert rows == [("p1", "fail"), ("p2", "pass")]
    assert "us-ftc-1" in present and "No clear disclosure above the fold." in present and "50.0 %" in present


def test_a_failed_audit_shows_why(audit):
    failed = {**audit, "status": "failed", "score": None, "grade": None, "signals": [], "flags": [],
              "failure_reason": "the follower model file is unreadable", "attempts": 3}
    html = render_html(failed)
    assert "This audit failed" in section(html, "failure")
    assert "the follower model file is unreadable" in html and "After 3 runs" in html
    assert "<svg" not in html


def test_the_versions_window_and_samples_are_shown(audit):
    method = section(render_html(audit), "method")
    for value in audit["versions"].values():
        assert value in method
    assert "followers 300" in method and "series points 90" in method
    assert audit["window"]["start"][:10] in method


def test_the_growth_signal_keeps_a_bounded_series_with_every_anomaly_end():
    start = datetime(2025, 1, 1, tzinfo=UTC)
    series = [FollowerPoint(start + timedelta(days=d), 10_000 + 10 * d + (5_000 if d >= 700 else 0)) for d in range(1_000)]
    details = growth_signal(series).details
    shown = details["series"]
    assert len(shown) <= SERIES_SHOWN
    assert shown[0] == [series[0].observed_at.isoformat(), series[0].followers]
    assert shown[-1] == [series[-1].observed_at.isoformat(), series[-1].followers]
    (anomaly,) = details["anomalies"]
    times = [t for t, _ in shown]
    assert anomaly["start"] in times and anomaly["end"] in times
    assert times == sorted(times)
    short = growth_signal(series[:30]).details["series"]
    assert short == [[p.observed_at.isoformat(), p.followers] for p in series[:30]]


def test_without_chromium_the_pdf_is_refused_naming_why():
    with pytest.raises(pdf.PdfUnavailable) as refused:
        pdf.html_to_pdf("<p>x</p>", pdf.find_chromium("/nonexistent/chromium"), timeout=5)
    assert refused.value.status_code == 503
    assert "no Chromium" in refused.value.detail and "Print → Save as PDF" in refused.value.detail


def test_chromium_prints_the_report_to_pdf(audit):
    chromium = pdf.find_chromium()
    assert chromium, "Chromium is needed (apt-get install chromium)"
    printed = pdf.html_to_pdf(render_html(audit), chromium, timeout=60)
    assert printed.startswith(b"%PDF-")
    assert b"%%EOF" in printed[-1024:]


def test_an_audit_stored_before_the_series_was_kept_shows_its_anomalies_without_a_chart(audit):
    old = {**audit, "signals": [
        {**s, "details": {k: v for k, v in s["details"].items() if k != "series"}} if s["name"] == "growth" else s
        for s in audit["signals"]
    ]}
    growth = section(render_html(old), "growth")
    assert "<svg" not in growth and "Insufficient data" not in growth
    assert "stored before audits kept the follower series" in growth
    assert "Unexplained (likely bought)" in growth and "Giveaway" in growth
