"""The comparison's attribution of a change to its cause, on stored audits as the service keeps
them (services/audit/audit/compare.py): which version or data each signal depends on."""

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from services.audit.audit.compare import compare

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def signal(name: str, score: float, evidence: str = "", flags=()) -> dict:
    return {"name": name, "status": "judged", "score": score, "weight": 0.1, "confidence": 0.8,
            "evidence": [evidence or f"{name} at {score}"], "missing": [], "flags": list(flags), "details": {}}


def audit(scores: dict[str, float], *, versions=None, samples=None, sample_id=None, window_end=NOW, flags=(),
          created=NOW) -> SimpleNamespace:
    return SimpleNamespace(
        id=uuid.uuid4(), creator_id=uuid.UUID(int=1), status="completed", score=sum(scores.values()) / len(scores),
        grade="B", confidence=0.8, flags=list(flags), signals=[signal(n, s) for n, s in scores.items()],
        versions=versions or {"model": "m1", "rules": "rules-v1", "benchmarks": "engagement-v1"},
        samples=samples or {"followers": 100, "posts": 10, "series_points": 10, "comments": 50},
        follower_sample_id=sample_id or uuid.UUID(int=7), window_start=NOW - timedelta(days=30), window_end=window_end,
        finished_at=created, created_at=created,
    )


SCORES = {"audience_quality": 80.0, "engagement_rate": 70.0, "likes_comments": 60.0, "growth": 90.0,
          "comments": 75.0, "pods": 100.0}


def by_name(diff) -> dict:
    return {s.name: s for s in diff.signals}


def test_a_new_model_explains_audience_quality_and_nothing_else():
    before = audit(SCORES)
    after = audit({**SCORES, "audience_quality": 60.0}, versions={**before.versions, "model": "m2"},
                  created=NOW + timedelta(days=1))
    diff = compare(before, after)
    assert diff.causes == ["model_version"] and not diff.data.changed and diff.chronological
    signals = by_name(diff)
    assert signals["audience_quality"].attribution == "model_version"
    assert "m1 -> m2" in signals["audience_quality"].explanation
    assert signals["audience_quality"].score.delta == -20.0
    assert all(s.attribution is None and not s.changed for n, s in signals.items() if n != "audience_quality")


def test_new_benchmarks_explain_engagement_and_new_rules_any_signal():
    before = audit(SCORES)
    benchmarks = compare(before, audit({**SCORES, "engagement_rate": 50.0},
                                       versions={**before.versions, "benchmarks": "engagement-v2"}))
    assert by_name(benchmarks)["engagement_rate"].attribution == "benchmarks"
    rules = compare(before, audit({**SCORES, "pods": 40.0}, versions={**before.versions, "rules": "rules-v2"}))
    assert rules.causes == ["rules"] and by_name(rules)["pods"].attribution == "rules"


def test_disclosure_moves_with_its_rule_sets_captions_and_settings_and_nothing_else_does():
    scores = {**SCORES, "disclosure": 100.0}
    before = audit(scores)
    # A new US rule set explains the disclosure signal only: a pods change beside it is undetermined.
    ruled = by_name(compare(before, audit({**scores, "disclosure": 50.0, "pods": 40.0},
                                          versions={**before.versions, "disclosure.US": "us-ftc-2"})))
    assert ruled["disclosure"].attribution == "rules" and "us-ftc-2" in ruled["disclosure"].explanation
    assert ruled["pods"].attribution == "undetermined"
    # Another sponsor named on the same data regrades the captions: settings, not data in place.
    sponsored = audit({**scores, "disclosure": 40.0})
    before.sponsors, sponsored.sponsors = [], ["acme"]
    diff = compare(before, sponsored)
    assert by_name(diff)["disclosure"].attribution == "new_data"
    assert "sponsors [] -> ['acme']" in by_name(diff)["disclosure"].explanation
    # New followers sampled do not explain a disclosure change.
    more = audit({**scores, "disclosure": 40.0}, samples={**before.samples, "followers": 200})
    more.sponsors = []
    assert by_name(compare(before, more))["disclosure"].attribution == "undetermined"


def test_new_posts_explain_the_signals_that_read_posts_and_not_the_audience():
    before = audit(SCORES)
    after = audit({**SCORES, "likes_comments": 30.0, "audience_quality": 70.0},
                  samples={**before.samples, "posts": 13}, window_end=NOW + timedelta(days=2))
    diff = compare(before, after)
    assert diff.causes == ["new_data"] and diff.data.samples["posts"].delta == 3
    signals = by_name(diff)
    assert signals["likes_comments"].attribution == "new_data" and "+3 posts" in signals["likes_comments"].explanation
    # The follower sample did not change: what moved audience_quality cannot be told.
    assert signals["audience_quality"].attribution == "undetermined" and signals["audience_quality"].causes == []


def test_a_signal_two_causes_could_explain_is_several_and_flags_and_evidence_are_diffed():
    before = audit(SCORES)
    after = audit({**SCORES, "audience_quality": 40.0}, versions={**before.versions, "model": "m2"},
                  sample_id=uuid.UUID(int=8), flags=("mass_followers",), created=NOW - timedelta(days=1))
    diff = compare(before, after)
    audience = by_name(diff)["audience_quality"]
    assert audience.attribution == "several" and audience.causes == ["model_version", "new_data"]
    assert audience.evidence_added == ["audience_quality at 40.0"]
    assert audience.evidence_removed == ["audience_quality at 80.0"]
    assert diff.flags_added == ["mass_followers"] and diff.flags_removed == []
    assert not diff.chronological


def test_a_signal_only_one_audit_has_is_listed_with_nulls_on_the_other_side():
    before = audit(SCORES)
    after = audit({**SCORES, "brand_safety": 90.0})
    extra = by_name(compare(before, after))["brand_safety"]
    assert extra.changed and extra.status.before is None and extra.status.after == "judged"
    assert extra.score.delta is None and extra.attribution == "undetermined"
