"""The total of an audit: signal weights, the weighted score over the judged signals, the grade
and the confidence (docs/guide/audit-signals.md, docs/decisions/0027-audit-signals.md).

A signal that could not be judged takes no part in the score: the weights of the judged signals
are renormalised to sum to 1, and the confidence is scaled down by the share of the weight that
was judged, so an audit made from half the evidence says so.

A weighted mean alone lets five clean signals hide one damning one (a sample two-thirds bots
plus a bought spike still averaged a B), so the total is also capped at WEAKEST_LINK_MARGIN
points above the lowest score of a judged signal that is reasonably sure of itself
(confidence >= WEAKEST_LINK_CONFIDENCE).
"""

from collections.abc import Sequence

from services.audit.engine.types import Signal

# Bump when a threshold, weight, word list or formula of any signal changes: an audit is
# reproducible from its inputs and these versions.
# v2: the disclosure signal (its rule files carry their own versions). v3: a growth anomaly must
# gain (a spike) or lose (a drop) followers itself, not only depart from the trend; a negated
# hashtag label ("not #ad") does not disclose.
RULES_VERSION = "rules-v4"
# The engagement benchmark table: services/audit/engine/benchmarks/<BENCHMARKS_VERSION>.csv.
BENCHMARKS_VERSION = "engagement-v1"

SIGNAL_ORDER = ("audience_quality", "engagement_rate", "likes_comments", "growth", "comments", "pods", "disclosure")

# Rationale (ADR 0027): the audience sample measures directly what a brand pays for, so it
# weighs most; engagement against peers is the industry's first check but its benchmarks differ
# several-fold between sources; growth anomalies are strong evidence when present; comments,
# pods and likes/comments are indirect (real audiences also write "wow").
WEIGHTS: dict[str, float] = {
    "audience_quality": 0.30,
    "engagement_rate": 0.20,
    "likes_comments": 0.10,
    "growth": 0.15,
    "comments": 0.15,
    "pods": 0.10,
    # Disclosure compliance is shown beside the total, not in it (ADR 0040): the total answers
    # "is this audience real", and a creator who labels ads badly is not thereby less authentic.
    # Its score, evidence and flags stand on their own; weight 0 keeps every other figure as it was.
    "disclosure": 0.0,
}

WEAKEST_LINK_MARGIN = 30.0
WEAKEST_LINK_CONFIDENCE = 0.5

# Lower bound of each grade, from the top (ECTS-style letters A-F; a score below 25 is F).
GRADE_BANDS: tuple[tuple[float, str], ...] = (
    (85.0, "A"),
    (70.0, "B"),
    (55.0, "C"),
    (40.0, "D"),
    (25.0, "E"),
    (0.0, "F"),
)


def grade(score: float | None) -> str | None:
    if score is None:
        return None
    for floor, letter in GRADE_BANDS:
        if score >= floor:
            return letter
    return GRADE_BANDS[-1][1]


# Below this confidence a judged signal does not count towards the total (see `total`).
MIN_CONFIDENCE = 0.2


def total(signals: Sequence[Signal]) -> tuple[float | None, float]:
    """(score, confidence) over the judged signals. The score is the weight-renormalised mean of
    their scores, capped at WEAKEST_LINK_MARGIN above the lowest confident one; the confidence
    their weight-averaged confidence times the share of all the weight that was judged. Only
    signals judged with at least MIN_CONFIDENCE count. None counts: (None, 0.0)."""
    # A judged signal this unsure (a handful of commenters, a sample of a few followers) is shown
    # with its evidence but does not make a total on its own or move one: no score from almost
    # no data.
    judged = [s for s in signals if s.status == "judged" and s.score is not None and s.weight > 0
              and s.confidence >= MIN_CONFIDENCE]
    all_weight = sum(s.weight for s in signals)
    judged_weight = sum(s.weight for s in judged)
    if not judged or judged_weight <= 0:
        return None, 0.0
    score = sum(s.weight * s.score for s in judged) / judged_weight
    sure = [s.score for s in judged if s.confidence >= WEAKEST_LINK_CONFIDENCE]
    if sure:
        score = min(score, min(sure) + WEAKEST_LINK_MARGIN)
    confidence = sum(s.weight * s.confidence for s in judged) / judged_weight
    coverage = judged_weight / all_weight if all_weight > 0 else 0.0
    return round(score, 1), round(confidence * coverage, 3)
