"""The outreach pipeline of a shortlist entry: its stages, their order and the moves allowed.

    prospect -> contacted -> replied -> negotiating -> contracted
         \\___________\\___________\\____________\\-> declined -> prospect | contacted

- From `prospect` the only way forward is `contacted`: every later stage needs a contact first,
  and time-to-reply is measured from it.
- From `contacted` on, forward skips are allowed (a reply that opens negotiation at once, a deal
  agreed without haggling): each skipped stage counts as passed through (see report.py).
- `declined` from any open stage; a declined entry can be reopened as `prospect` or `contacted`.
- `contracted` is final.
Moving an entry to the stage it is at changes nothing (a retried request is harmless).
"""

from enum import StrEnum


class Stage(StrEnum):
    prospect = "prospect"
    contacted = "contacted"
    replied = "replied"
    negotiating = "negotiating"
    contracted = "contracted"
    declined = "declined"


# The funnel, in order; `declined` sits outside it.
FUNNEL: tuple[Stage, ...] = (Stage.prospect, Stage.contacted, Stage.replied, Stage.negotiating, Stage.contracted)
OPEN: frozenset[Stage] = frozenset(FUNNEL[:-1])
# The stages a reply leads to from `contacted` (time-to-reply ends at the first of them).
ANSWERED: frozenset[Stage] = frozenset({Stage.replied, Stage.negotiating, Stage.contracted})

ALLOWED: dict[Stage, frozenset[Stage]] = {
    Stage.prospect: frozenset({Stage.contacted, Stage.declined}),
    Stage.contacted: ANSWERED | {Stage.declined},
    Stage.replied: frozenset({Stage.negotiating, Stage.contracted, Stage.declined}),
    Stage.negotiating: frozenset({Stage.contracted, Stage.declined}),
    Stage.contracted: frozenset(),
    Stage.declined: frozenset({Stage.prospect, Stage.contacted}),
}

DEFAULT = Stage.prospect


def allowed(source: Stage, target: Stage) -> bool:
    return target in ALLOWED[source]


def refusal(source: Stage, target: Stage) -> str:
    """Why `source` -> `target` is refused, naming both and what is possible instead."""
    options = sorted(ALLOWED[source], key=list(Stage).index)
    then = f"from {source.value} an entry can move to {', '.join(o.value for o in options)}" if options else (
        f"{source.value} is final"
    )
    return f"an entry cannot move from {source.value} to {target.value}: {then}"


def position(stage: Stage) -> int | None:
    """Where `stage` sits in the funnel (0 = prospect), None for declined."""
    return FUNNEL.index(stage) if stage in FUNNEL else None
