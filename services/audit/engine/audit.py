# TEMPORARY: replaced at merge by the signals/classifier helper's version.
"""`compute(inputs, model) -> AuditResult`, as the service calls it.

This placeholder judges only audience quality (the share of real people and influencers in the
follower sample); every other signal says insufficient data. It exists so the service can run
end to end before the merge; it is not the engine."""

from services.audit.engine.types import AuditInputs, AuditResult, FollowerModel, Signal

SIGNALS = ("audience_quality", "engagement_rate", "likes_comments", "growth", "comments", "pods")
WEIGHT = 1 / len(SIGNALS)


def _grade(score: float) -> str:
    for bound, grade in ((85, "A"), (70, "B"), (55, "C"), (40, "D"), (25, "E")):
        if score >= bound:
            return grade
    return "F"


def compute(inputs: AuditInputs, model: FollowerModel) -> AuditResult:
    signals = []
    quality = None
    if inputs.followers:
        types = model.audience_types(inputs.followers)
        quality = sum(t in ("real", "influencer") for t in types) / len(types)
        signals.append(
            Signal(
                name="audience_quality",
                status="judged",
                score=round(quality * 100, 1),
                weight=WEIGHT,
                confidence=min(1.0, len(types) / 1000),
                evidence=(f"{quality:.0%} of {len(types)} sampled followers are real people or influencers",),
                details={"sample": len(types)},
            )
        )
    else:
        signals.append(
            Signal("audience_quality", "insufficient_data", None, WEIGHT, 0.0, missing=("follower sample",))
        )
    for name in SIGNALS[1:]:
        signals.append(Signal(name, "insufficient_data", None, WEIGHT, 0.0, missing=("placeholder engine",)))
    judged = [s for s in signals if s.status == "judged"]
    score = round(sum(s.score for s in judged) / len(judged), 1) if judged else None
    times = [p.posted_at for p in inputs.posts] + [p.observed_at for p in inputs.series]
    return AuditResult(
        score=score,
        grade=_grade(score) if score is not None else None,
        confidence=round(sum(s.confidence for s in judged) / len(signals), 3),
        audience_quality=quality,
        signals=tuple(signals),
        flags=tuple(f for s in signals for f in s.flags),
        versions={"model": model.version, "rules": "placeholder-0", "benchmarks": "placeholder-0"},
        window=(min(times) if times else None, max(times) if times else inputs.now),
        samples={
            "followers": len(inputs.followers),
            "posts": len(inputs.posts),
            "series_points": len(inputs.series),
            "comments": len(inputs.comments),
        },
    )
