"""One audit: every signal over the stored inputs, the total, and what was read.

Pure and deterministic: the same inputs and model give the same result (no clock is read; the
audit's clock is `inputs.now`). The service loads `AuditInputs`, calls `compute` and stores the
`AuditResult` (services/audit/engine/types.py).
"""

import dataclasses
from datetime import UTC, datetime

from services.audit.engine.scoring import BENCHMARKS_VERSION, RULES_VERSION, SIGNAL_ORDER, WEIGHTS, grade, total
from services.audit.engine.signals.audience import audience_signal
from services.audit.engine.disclosure.rulebook import Rulebook, default_rulebook
from services.audit.engine.signals.comments import comments_signal
from services.audit.engine.signals.disclosure import disclosure_signal
from services.audit.engine.signals.common import insufficient
from services.audit.engine.signals.engagement import engagement_signal
from services.audit.engine.signals.growth import growth_signal
from services.audit.engine.signals.likes_comments import likes_comments_signal
from services.audit.engine.signals.pods import pod_comment_count, pod_signal
from services.audit.engine.types import AuditInputs, AuditResult, FollowerModel, Signal


def _utc(moment: datetime | None) -> datetime | None:
    """Aware UTC; a naive time is taken as UTC (so mixed inputs compare, and dates in the evidence
    do not depend on the zone a caller wrote them in)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _prepared(inputs: AuditInputs) -> AuditInputs:
    """The inputs the signals judge: times in UTC; nothing after the audit's clock `now`; and the
    creator's own comments (replies under its posts) left out, since they say nothing about
    its audience."""
    now = _utc(inputs.now)
    own = inputs.profile.handle.lower().lstrip("@")
    posts = tuple(dataclasses.replace(p, posted_at=_utc(p.posted_at)) for p in inputs.posts)
    series = tuple(dataclasses.replace(p, observed_at=_utc(p.observed_at)) for p in inputs.series)
    comments = tuple(
        dataclasses.replace(c, commented_at=_utc(c.commented_at))
        for c in inputs.comments if c.author.lower().lstrip("@") != own
    )
    if now is not None:
        posts = tuple(p for p in posts if p.posted_at <= now)
        series = tuple(p for p in series if p.observed_at <= now)
        comments = tuple(c for c in comments if c.commented_at is None or c.commented_at <= now)
    return dataclasses.replace(inputs, posts=posts, series=series, comments=comments, now=now)


def _pods(inputs: AuditInputs) -> Signal:
    # "No pod found" is only a finding when there were comments to find one in, with their times
    # (pods are comments within minutes of each other: an undated comment cannot show one).
    dated = [c for c in inputs.comments if c.commented_at is not None]
    if not dated:
        missing = ("comment times",) if inputs.comments else ("comments",)
        return insufficient("pods", WEIGHTS["pods"], missing, (
            "Insufficient data: no comments with their times, so no engagement pod could be looked for.",
        ))
    creator = inputs.profile.creator_id
    return pod_signal(
        creator, inputs.pods, comments_total=len(dated),
        pod_comments=pod_comment_count(creator, dated, inputs.pods),
        commenters=len({c.author for c in dated}),
    )


def _window(inputs: AuditInputs) -> tuple[datetime | None, datetime | None]:
    moments = [p.posted_at for p in inputs.posts]
    moments += [p.observed_at for p in inputs.series]
    moments += [c.commented_at for c in inputs.comments if c.commented_at is not None]
    if not moments:
        return None, None
    return min(moments), max(moments)


def _disclosure_versions(signal: Signal) -> dict[str, str]:
    """The rule-set versions the disclosure signal graded with: disclosure.US, ..., disclosure.common."""
    versions = {f"disclosure.{code}": v for code, v in signal.details.get("rule_versions", {}).items()}
    if "common_version" in signal.details:
        versions["disclosure.common"] = signal.details["common_version"]
    return versions


def compute(inputs: AuditInputs, model: FollowerModel, rulebook: Rulebook | None = None) -> AuditResult:
    inputs = _prepared(inputs)
    rulebook = rulebook or default_rulebook()
    signals = {
        "audience_quality": audience_signal(inputs.followers, model),
        "engagement_rate": engagement_signal(inputs.profile, inputs.posts, inputs.series),
        "likes_comments": likes_comments_signal(inputs.posts),
        "growth": growth_signal(inputs.series, inputs.posts, inputs.profile.handle),
        "comments": comments_signal(inputs.comments, inputs.texts_elsewhere),
        "pods": _pods(inputs),
        "disclosure": disclosure_signal(
            inputs.profile, inputs.posts, jurisdictions=inputs.jurisdictions, sponsors=inputs.sponsors,
            rulebook=rulebook,
        ),
    }
    # The weights are scoring's, whatever a signal module says, so the total has one source.
    ordered = tuple(dataclasses.replace(signals[name], weight=WEIGHTS[name]) for name in SIGNAL_ORDER)
    score, confidence = total(ordered)
    audience = signals["audience_quality"]
    return AuditResult(
        score=score,
        grade=grade(score),
        confidence=confidence,
        audience_quality=audience.details.get("quality_share") if audience.status == "judged" else None,
        signals=ordered,
        flags=tuple(flag for s in ordered for flag in s.flags),
        versions={
            "model": model.version, "rules": RULES_VERSION, "benchmarks": BENCHMARKS_VERSION,
            **_disclosure_versions(signals["disclosure"]),
        },
        window=_window(inputs),
        samples={
            "followers": len(inputs.followers), "posts": len(inputs.posts),
            "series_points": len(inputs.series), "comments": len(inputs.comments),
        },
    )
