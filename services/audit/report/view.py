"""What the report shows, read from a stored audit: plain data for the template, no I/O.

Everything comes from the audit as `GET /audits/{id}` returns it (`AuditRead`), the signals'
`details` included, so a report can be rebuilt from the JSON alone. What the audit does not hold
(the creator's handle, the posts an anomaly or a disclosure verdict points to) comes in as
optional arguments; a section whose data is absent says "not assessed" rather than guessing.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.audit.engine.scoring import SIGNAL_ORDER
from services.audit.report import charts

SIGNAL_TITLE = {
    "audience_quality": "Audience quality",
    "engagement_rate": "Engagement rate",
    "likes_comments": "Likes and comments",
    "growth": "Follower growth",
    "comments": "Comment authenticity",
    "pods": "Engagement pods",
    "disclosure": "Disclosure compliance",
    "brand_safety": "Brand safety",
}
KIND_TITLE = {
    "generic": "Generic",
    "emoji_only": "Emoji only",
    "mention_only": "Mentions only",
    "very_short": "Very short",
    "duplicated_across_posts": "Same text on several posts",
    "duplicated_across_creators": "Same text on other creators' posts",
}
CAUSE_TITLE = {
    "unexplained": "Unexplained (likely bought)",
    "giveaway": "Giveaway",
    "collaboration": "Collaboration",
    "viral_post": "Viral post",
    None: "Drop",
}


@dataclass(frozen=True)
class CreatorHeader:
    """Who the audit is of, from audit's projection of discovery's creator."""

    platform: str
    handle: str
    display_name: str | None = None
    followers: int | None = None


@dataclass(frozen=True)
class PostRef:
    """A post an anomaly points to, as the projection holds it."""

    external_id: str
    posted_at: str
    caption: str | None


@dataclass
class Report:
    audit: Mapping[str, Any]
    creator: CreatorHeader | None
    signals: list[dict]
    charts: dict[str, charts.Chart]
    anomalies: list[dict]
    audience: dict | None
    engagement: dict | None
    comment_examples: list[dict]
    pods: list[dict]
    disclosure: dict | None
    brand_safety: dict | None
    appeals: Sequence[Mapping[str, Any]] | None
    extra: dict[str, Any] = field(default_factory=dict)


def _signals(audit: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {s["name"]: s for s in audit.get("signals") or []}


def _ordered(signals: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    names = [n for n in SIGNAL_ORDER if n in signals] + sorted(n for n in signals if n not in SIGNAL_ORDER)
    return [{**signals[n], "title": SIGNAL_TITLE.get(n, n.replace("_", " ").capitalize())} for n in names]


def _judged(signal: Mapping[str, Any] | None) -> bool:
    return bool(signal) and signal.get("status") == "judged"


def _anomalies(growth: Mapping[str, Any] | None, posts: Mapping[str, PostRef]) -> list[dict]:
    if not _judged(growth):
        return []
    rows = []
    for number, a in enumerate(growth["details"].get("anomalies", []), 1):
        post = posts.get(a.get("post_id") or "")
        rows.append({
            "number": number, "kind": a["kind"], "start": a["start"][:10], "end": a["end"][:10],
            # One day or so: the day it arrived; longer: the interval it arrived in (as the evidence says).
            "when": a["end"][:10] if (a.get("days") or 0) <= 1.5 else f"{a['start'][:10]} → {a['end'][:10]}",
            "days": a.get("days"), "change": a["change"], "excess": a.get("excess"),
            "excess_share": a.get("excess_share"), "cause": a.get("cause"),
            "cause_title": CAUSE_TITLE.get(a.get("cause"), a.get("cause")), "post_id": a.get("post_id"),
            "post": post,
        })
    return rows


def _comment_examples(comments: Mapping[str, Any] | None) -> list[dict]:
    if not _judged(comments):
        return []
    rows = []
    for kind, figures in comments["details"].get("kinds", {}).items():
        if figures.get("count"):
            rows.append({"kind": KIND_TITLE.get(kind, kind), "count": figures["count"], "share": figures["share"],
                         "examples": figures.get("examples", [])})
    return rows


def _disclosure(signal: Mapping[str, Any] | None) -> dict | None:
    """The disclosure signal's details as a table, or None (not assessed). An insufficient-data
    signal still shows its evidence (e.g. no sponsored post found)."""
    if not signal:
        return None
    details = signal.get("details") or {}
    return {
        "status": signal.get("status"), "score": signal.get("score"), "evidence": signal.get("evidence", []),
        "jurisdictions": details.get("jurisdictions", []), "rule_versions": details.get("rule_versions", {}),
        "sponsored_posts": details.get("sponsored_posts"), "passed": details.get("passed"),
        "failed": details.get("failed"), "needs_review": details.get("needs_review"),
        "compliance_rate": details.get("compliance_rate"), "posts": details.get("posts", []),
    }


def _brand_safety(given: Mapping[str, Any] | None, signal: Mapping[str, Any] | None) -> dict | None:
    """Brand-safety hits and per-category counts: given by the caller, else a `brand_safety`
    signal's details, else None (not assessed)."""
    source = given
    if source is None and signal:
        source = signal.get("details")
    if source is None:
        return None
    hits = list(source.get("hits", []))
    counts = source.get("counts") or source.get("categories")
    if not isinstance(counts, Mapping):
        counts = {}
        for hit in hits:
            counts[hit.get("category")] = counts.get(hit.get("category"), 0) + 1
    return {
        "hits": hits, "counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))),
        "checked": source.get("checked"), "lists": list(source.get("lists") or ()),
        "truncated": bool(source.get("truncated")), "hits_total": source.get("hits_total", len(hits)),
    }


def build(
    audit: Mapping[str, Any],
    *,
    creator: CreatorHeader | None = None,
    posts: Mapping[str, PostRef] | None = None,
    brand_safety: Mapping[str, Any] | None = None,
    appeals: Sequence[Mapping[str, Any]] | None = None,
    **extra: Any,
) -> Report:
    """The report of `audit` (AuditRead as a JSON-mode dict). `posts` by post id (the posts the
    growth anomalies name); `brand_safety` ({hits, counts}) and `appeals` (each with flag,
    comment, status, resolution_note, resolved_at) when the caller has them; `extra` is passed to
    the template as is, for sections added later."""
    signals = _signals(audit)
    growth, audience, engagement = signals.get("growth"), signals.get("audience_quality"), signals.get("engagement_rate")
    drawn: dict[str, charts.Chart] = {}
    if _judged(growth) and growth["details"].get("series"):
        chart = charts.growth_chart(growth["details"]["series"], growth["details"].get("anomalies", []))
        if chart:
            drawn["growth"] = chart
    audience_view = None
    if _judged(audience):
        details = audience["details"]
        audience_view = {
            "sample": details.get("sample"), "quality_share": details.get("quality_share"),
            "quality_interval": details.get("quality_interval"), "reachability": details.get("reachability"),
        }
        chart = charts.audience_chart(details.get("types", {}))
        if chart:
            drawn["audience"] = chart
    engagement_view = None
    if engagement and "engagement_rate" in (engagement.get("details") or {}):
        details = engagement["details"]
        engagement_view = {
            "rate": details["engagement_rate"], "posts": details.get("posts"), "followers": details.get("followers"),
            "platform": details.get("platform"), "tier": details.get("tier"), "benchmark": details.get("benchmark"),
            "ratio": details.get("ratio_to_reference"),
        }
        chart = charts.engagement_chart(details)
        if chart:
            drawn["engagement"] = chart
    pods_signal = signals.get("pods")
    pods = list(pods_signal["details"].get("pods", [])) if _judged(pods_signal) else []
    return Report(
        audit=audit, creator=creator, signals=_ordered(signals), charts=drawn,
        anomalies=_anomalies(growth, posts or {}), audience=audience_view, engagement=engagement_view,
        comment_examples=_comment_examples(signals.get("comments")), pods=pods,
        disclosure=_disclosure(signals.get("disclosure")),
        brand_safety=_brand_safety(brand_safety, signals.get("brand_safety")),
        appeals=appeals, extra=dict(extra),
    )
