"""One audit: every signal over the stored inputs, the total, and what was read.

Pure and deterministic: the same inputs and model give the same result (no clock is read; the
audit's clock is `inputs.now`). The service loads `AuditInputs`, calls `compute` and stores the
`AuditResult` (services/audit/engine/types.py).
"""

import dataclasses
from datetime import datetime

from services.audit.engine.scoring import BENCHMARKS_VERSION, RULES_VERSION, SIGNAL_ORDER, WEIGHTS, grade, total
from services.audit.engine.signals.audience import audience_signal
from services.audit.engine.signals.comments import comments_signal
from services.audit.engine.signals.common import insufficient
from services.audit.engine.signals.engagement import engagement_signal
from services.audit.engine.signals.growth import growth_signal
from services.audit.engine.signals.likes_comments import likes_comments_signal
from services.audit.engine.signals.pods import pod_comment_count, pod_signal
from services.audit.engine.types import AuditInputs, AuditResult, FollowerModel, Signal


def _until_now(inputs: AuditInputs) -> AuditInputs:
    """The inputs up to the audit's clock: a post, point or comment after `now` is not read."""
    now = inputs.now
    if now is None:
        return inputs
    return dataclasses.replace(
        inputs,
        posts=tuple(p for p in inputs.posts if p.posted_at <= now),
        series=tuple(p for p in inputs.series if p.observed_at <= now),
        comments=tuple(c for c in inputs.comments if c.commented_at is None or c.commented_at <= now),
    )


def _pods(inputs: AuditInputs) -> Signal:
    # "No pod found" is only a finding when there were comments to find one in.
    if not inputs.comments:
        return insufficient("pods", WEIGHTS["pods"], ("comments",), (
            "Insufficient data: no comments, so no engagement pod could be looked for.",
        ))
    creator = inputs.profile.creator_id
    return pod_signal(
        creator, inputs.pods, comments_total=len(inputs.comments),
        pod_comments=pod_comment_count(creator, inputs.comments, inputs.pods),
        commenters=len({c.author for c in inputs.comments}),
    )


def _window(inputs: AuditInputs) -> tuple[datetime | None, datetime | None]:
    moments = [p.posted_at for p in inputs.posts]
    moments += [p.observed_at for p in inputs.series]
    moments += [c.commented_at for c in inputs.comments if c.commented_at is not None]
    if not moments:
        return None, None
    return min(moments), max(moments)


def compute(inputs: AuditInputs, model: FollowerModel) -> AuditResult:
    inputs = _until_now(inputs)
    signals = {
        "audience_quality": audience_signal(inputs.followers, model),
        "engagement_rate": engagement_signal(inputs.profile, inputs.posts, inputs.series),
        "likes_comments": likes_comments_signal(inputs.posts),
        "growth": growth_signal(inputs.series, inputs.posts, inputs.profile.handle),
        "comments": comments_signal(inputs.comments, inputs.texts_elsewhere),
        "pods": _pods(inputs),
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
        versions={"model": model.version, "rules": RULES_VERSION, "benchmarks": BENCHMARKS_VERSION},
        window=_window(inputs),
        samples={
            "followers": len(inputs.followers), "posts": len(inputs.posts),
            "series_points": len(inputs.series), "comments": len(inputs.comments),
        },
    )
