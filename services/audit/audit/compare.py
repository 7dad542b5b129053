"""Two audits of one creator side by side, and why they differ where it can be told
(docs/guide/audit-history-and-appeals.md, "Comparing two audits").

Pure: it reads two stored audits and nothing else. A difference is put down to what differs
between the audits and what the signal depends on: the follower model only moves
audience_quality (it classifies the follower sample), the engagement benchmarks only
engagement_rate, a rule set every signal, and new data the signals that read it. A signal that
changed although nothing it depends on did is `undetermined`: data changed in place (a post's
like count updated by discovery, a comment edited) without changing any count or date the
audit records.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from services.audit.audit.schemas import (
    AuditComparison,
    AuditSide,
    DataChange,
    NumberChange,
    SignalChange,
    TextChange,
    VersionChange,
)
from services.audit.engine.scoring import SIGNAL_ORDER

MODEL, RULES, BENCHMARKS, NEW_DATA = "model_version", "rules", "benchmarks", "new_data"

# What each signal reads (services/audit/engine/audit.py `compute`). A signal not listed (one a
# later version adds) is taken to read everything.
SIGNAL_INPUTS: dict[str, frozenset[str]] = {
    "audience_quality": frozenset({"followers"}),
    "engagement_rate": frozenset({"posts", "series_points"}),
    "likes_comments": frozenset({"posts"}),
    "growth": frozenset({"posts", "series_points"}),
    "comments": frozenset({"comments"}),
    "pods": frozenset({"comments"}),
    # The captions, and what the request asked: the sponsors named and the jurisdictions graded.
    "disclosure": frozenset({"posts", "settings"}),
}
# The signals each version moves; a version not listed is a rule set and moves every signal.
VERSION_SIGNALS: dict[str, frozenset[str]] = {
    "model": frozenset({"audience_quality"}),
    "benchmarks": frozenset({"engagement_rate"}),
}
# The samples each data point in the window comes from: a moved window is new data for them.
WINDOWED = frozenset({"posts", "series_points", "comments"})

EXPLANATIONS = {
    MODEL: "the follower model changed ({detail})",
    RULES: "the scoring rules changed ({detail})",
    BENCHMARKS: "the engagement benchmarks changed ({detail})",
    NEW_DATA: "it read different data ({detail})",
}
SAMPLE_WORDS = {"followers": "followers sampled", "posts": "posts", "series_points": "follower-count points",
                "comments": "comments"}


def _change(before: float | None, after: float | None) -> NumberChange:
    delta = None if before is None or after is None else round(after - before, 4)
    return NumberChange(before=before, after=after, delta=delta)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _minus(items: Iterable[str], others: Iterable[str]) -> list[str]:
    """`items` not in `others`, in their order, once each."""
    seen = set(others)
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _version_cause(name: str) -> str:
    return {"model": MODEL, "benchmarks": BENCHMARKS}.get(name, RULES)


def _moves(name: str) -> frozenset[str] | None:
    """The signals a version moves; None: every signal (a scoring rule set). A disclosure rule set
    (`disclosure.US`, `disclosure.common`) grades captions only: it moves the disclosure signal."""
    if name == "disclosure" or name.startswith("disclosure."):
        return frozenset({"disclosure"})
    return VERSION_SIGNALS.get(name)


def _versions(before: dict[str, str], after: dict[str, str]) -> list[VersionChange]:
    names = sorted(set(before) | set(after))
    return [VersionChange(name=n, before=before.get(n), after=after.get(n)) for n in names
            if before.get(n) != after.get(n)]


def _data(before: Any, after: Any) -> tuple[DataChange, dict[str, tuple[frozenset[str], str]]]:
    """What differs in what the audits read: the answer's part, and each difference in words with
    the samples it touches."""
    names = [n for n in SAMPLE_WORDS if n in before.samples or n in after.samples]
    names += sorted((set(before.samples) | set(after.samples)) - set(names))
    samples = {n: _change(before.samples.get(n), after.samples.get(n)) for n in names}
    notes: dict[str, tuple[frozenset[str], str]] = {}
    for name, change in samples.items():
        if change.before != change.after:
            words = (f"{change.delta:+g} {SAMPLE_WORDS.get(name, name)}" if change.delta is not None
                     else f"{name} {change.before} -> {change.after}")
            notes[name] = (frozenset({name}), words)
    follower_sample = TextChange(
        before=None if before.follower_sample_id is None else str(before.follower_sample_id),
        after=None if after.follower_sample_id is None else str(after.follower_sample_id),
    )
    if follower_sample.before != follower_sample.after:
        words = f"new follower sample {follower_sample.after}" if follower_sample.after else "no follower sample"
        notes["follower_sample"] = (frozenset({"followers"}), words)
    start = TextChange(before=_iso(before.window_start), after=_iso(after.window_start))
    end = TextChange(before=_iso(before.window_end), after=_iso(after.window_end))
    if start.before != start.after or end.before != end.after:
        notes["window"] = (WINDOWED, f"window moved from {start.before} .. {end.before} to {start.after} .. {end.after}")
    # The request's disclosure settings: another sponsor or jurisdiction regrades the same captions.
    for field in ("sponsors", "jurisdictions"):
        was, now = getattr(before, field, None), getattr(after, field, None)
        if sorted(was or []) != sorted(now or []):
            notes[field] = (frozenset({"settings"}), f"{field} {sorted(was or [])} -> {sorted(now or [])}")
    data = DataChange(changed=bool(notes), samples=samples, follower_sample=follower_sample, window_start=start,
                      window_end=end, summary=[words for _, words in notes.values()])
    return data, notes


def _reads(name: str, notes: dict[str, tuple[frozenset[str], str]]) -> list[str]:
    """The data differences a signal reads, in words."""
    reads = SIGNAL_INPUTS.get(name)
    return [words for touched, words in notes.values() if reads is None or reads & touched]


def _signal_causes(name: str, versions: Sequence[VersionChange], notes: dict) -> list[str]:
    causes = []
    for version in versions:
        moved = _moves(version.name)
        cause = _version_cause(version.name)
        if (moved is None or name in moved) and cause not in causes:
            causes.append(cause)
    if _reads(name, notes):
        causes.append(NEW_DATA)
    return causes


def _details(cause: str, name: str, versions: Sequence[VersionChange], notes: dict) -> str:
    if cause == NEW_DATA:
        return ", ".join(_reads(name, notes))
    return ", ".join(f"{v.name} {v.before} -> {v.after}" for v in versions if _version_cause(v.name) == cause)


def _signal(name: str, before: dict | None, after: dict | None, versions: Sequence[VersionChange],
            notes: dict) -> SignalChange:
    b, a = before or {}, after or {}
    evidence_added = _minus(a.get("evidence", []), b.get("evidence", []))
    evidence_removed = _minus(b.get("evidence", []), a.get("evidence", []))
    flags_added = _minus(a.get("flags", []), b.get("flags", []))
    flags_removed = _minus(b.get("flags", []), a.get("flags", []))
    status = TextChange(before=b.get("status"), after=a.get("status"))
    score = _change(b.get("score"), a.get("score"))
    confidence = _change(b.get("confidence"), a.get("confidence"))
    changed = bool(
        status.before != status.after or score.before != score.after or confidence.before != confidence.after
        or evidence_added or evidence_removed or flags_added or flags_removed
    )
    causes = _signal_causes(name, versions, notes)
    attribution = explanation = None
    if changed:
        if not causes:
            attribution = "undetermined"
            explanation = ("nothing it depends on differs in versions, sample sizes or window: data changed in place "
                           "(e.g. updated like counts or edited comments)")
        else:
            attribution = causes[0] if len(causes) == 1 else "several"
            explanation = "; ".join(EXPLANATIONS[c].format(detail=_details(c, name, versions, notes)) for c in causes)
    return SignalChange(
        name=name, changed=changed, status=status, score=score, confidence=confidence,
        evidence_added=evidence_added, evidence_removed=evidence_removed, flags_added=flags_added,
        flags_removed=flags_removed, causes=causes if changed else [], attribution=attribution, explanation=explanation,
    )


def _side(audit: Any) -> AuditSide:
    return AuditSide(id=audit.id, status=audit.status, finished_at=audit.finished_at, created_at=audit.created_at)


def compare(before: Any, after: Any) -> AuditComparison:
    """`after` against `before` (two completed audits of one creator, as stored)."""
    versions = _versions(before.versions or {}, after.versions or {})
    data, notes = _data(before, after)
    causes = []
    for version in versions:
        cause = _version_cause(version.name)
        if cause not in causes:
            causes.append(cause)
    if data.changed:
        causes.append(NEW_DATA)
    signals_before = {s["name"]: s for s in before.signals or []}
    signals_after = {s["name"]: s for s in after.signals or []}
    names = [n for n in SIGNAL_ORDER if n in signals_before or n in signals_after]
    names += _minus([*signals_before, *signals_after], names)
    return AuditComparison(
        creator_id=after.creator_id,
        before=_side(before),
        after=_side(after),
        chronological=(before.created_at, str(before.id)) <= (after.created_at, str(after.id)),
        score=_change(before.score, after.score),
        grade=TextChange(before=before.grade, after=after.grade),
        confidence=_change(before.confidence, after.confidence),
        flags_added=_minus(after.flags or [], before.flags or []),
        flags_removed=_minus(before.flags or [], after.flags or []),
        causes=[c for c in (MODEL, RULES, BENCHMARKS, NEW_DATA) if c in causes],
        versions=versions,
        data=data,
        signals=[_signal(n, signals_before.get(n), signals_after.get(n), versions, notes) for n in names],
    )
