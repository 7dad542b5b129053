"""A shortlist's outreach report, computed from the stage history of its entries.

Everything comes from one read of `shortlist_stage_changes` (one snapshot): an entry's current
stage is its last change's, so the figures agree with each other. Durations are those of
*completed* stays only (an entry still at a stage has no end yet), which also keeps a report
the same from one call to the next while nothing changes. Definitions: ShortlistReport's field
descriptions and docs/guide/discovery-shortlists.md.
"""

import uuid
from collections.abc import Iterable
from itertools import groupby
from statistics import fmean, median

from services.discovery.shortlist.schemas import Durations, ShortlistReport, StageFigures
from services.discovery.shortlist.stages import ANSWERED, FUNNEL, Stage, position


def _durations(samples: list[float]) -> Durations:
    if not samples:
        return Durations(samples=0, median_seconds=None, mean_seconds=None)
    return Durations(samples=len(samples), median_seconds=median(samples), mean_seconds=fmean(samples))


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def compute(shortlist_id: uuid.UUID, changes: Iterable) -> ShortlistReport:
    """`changes`: rows with creator_id, to_stage and at, ordered by creator_id, then in the order
    they happened."""
    now = dict.fromkeys(Stage, 0)
    reached = dict.fromkeys(Stage, 0)
    stays: dict[Stage, list[float]] = {stage: [] for stage in Stage}
    to_reply: list[float] = []
    entries = 0
    for _, history in groupby(changes, key=lambda c: c.creator_id):
        history = list(history)
        entries += 1
        furthest = max(position(Stage(c.to_stage)) or 0 for c in history)
        for stage in FUNNEL[: furthest + 1]:
            reached[stage] += 1
        if any(c.to_stage == Stage.declined for c in history):
            reached[Stage.declined] += 1
        now[Stage(history[-1].to_stage)] += 1
        for before, after in zip(history, history[1:]):
            stayed = (after.at - before.at).total_seconds()
            stays[Stage(before.to_stage)].append(stayed)
            if before.to_stage == Stage.contacted and after.to_stage in ANSWERED:
                to_reply.append(stayed)
    figures = []
    for stage in Stage:
        at = position(stage)
        previous = FUNNEL[at - 1] if at else None
        figures.append(
            StageFigures(
                stage=stage,
                now=now[stage],
                reached=reached[stage],
                conversion_from_previous=_ratio(reached[stage], reached[previous]) if previous else None,
                time_in_stage=_durations(stays[stage]),
            )
        )
    return ShortlistReport(
        shortlist_id=shortlist_id,
        entries=entries,
        stages=figures,
        time_to_reply=_durations(to_reply),
        contracted_rate=_ratio(reached[Stage.contracted], entries),
    )
