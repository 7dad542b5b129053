"""The data the models read: touches, and the paths they make.

A **touch** is one creator reaching a visitor or customer: a click on the creator's tracked link
or the creator's code used at checkout. A **path** is one visitor's or customer's touches in the
order they happened, and whether it ended in an order (converting) or not. A converting path
carries the order's time (`placed_at`, for time decay) and its `value_minor` (its commission basis, or its commission, in minor units of
one currency: the caller never mixes currencies in one path set) for the models that weigh
conversions by value.

Touches are kept in time order; touches at the same instant keep the order they were given in
(the first code typed, the click in the landing URL), so every model sees one deterministic
sequence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Kind = Literal["code", "click"]
KINDS: tuple[str, ...] = ("code", "click")


@dataclass(frozen=True, slots=True)
class Touch:
    creator_id: str
    kind: Kind
    at: datetime

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"a touch's kind is one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.at.tzinfo is None:
            raise ValueError("a touch's time is timezone-aware (UTC)")


def in_time_order(touches: Iterable[Touch]) -> tuple[Touch, ...]:
    """`touches` by time; a stable sort, so simultaneous touches keep their given order."""
    return tuple(sorted(touches, key=lambda t: t.at))


@dataclass(frozen=True, slots=True)
class Path:
    touches: tuple[Touch, ...]
    converted: bool
    value_minor: int = 0
    placed_at: datetime | None = None  # the order's time (converting paths); defaults to the last touch's

    def __post_init__(self) -> None:
        if not self.touches:
            raise ValueError("a path has at least one touch (an order nobody touched is unattributed, not a path)")
        if self.value_minor < 0 or (not self.converted and self.value_minor):
            raise ValueError("a path's value is zero or positive, and only a converting path carries one")
        if self.placed_at is not None and not self.converted:
            raise ValueError("only a converting path has an order time")
        object.__setattr__(self, "touches", in_time_order(self.touches))

    @property
    def order_time(self) -> datetime:
        return self.placed_at if self.placed_at is not None else self.touches[-1].at

    @property
    def creators(self) -> tuple[str, ...]:
        """The creators in touch order, consecutive repeats collapsed (A A B A → A B A)."""
        out: list[str] = []
        for t in self.touches:
            if not out or out[-1] != t.creator_id:
                out.append(t.creator_id)
        return tuple(out)

    @property
    def creator_set(self) -> frozenset[str]:
        return frozenset(t.creator_id for t in self.touches)
