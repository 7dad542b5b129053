"""Which creator an order is credited to, and why: a pure function over the order's touches.

A **touch** is a creator's affiliate code used at the order's checkout, or a click on one of
the creator's tracked links whose click id the order carried back. Every candidate touch gets a
sentence saying why it won or lost, so the order can be explained to the brand and to each
creator ("credited to @maya: code MAYA15 used at checkout; a link click by @leo 3 days earlier
was not credited because codes take precedence").

The rules (per campaign, `Policy`):
- a touch qualifies when it is not flagged (a bot or link-preview click, a HEAD request), not
  after the order, inside its window (a click: the link's attribution window, default 30 days;
  a code: it is used at checkout, so it is at the order's time), and its code or link was live
  then (not revoked, not expired, a code's usage limit not reached);
- **precedence**: `code` (default) — any qualifying code beats any click; `link` — any
  qualifying click beats any code (for brands whose codes leak to coupon sites); `recency` — no
  kind beats the other, the model alone decides;
- **model** among the touches that remain: `last_touch` (default, the industry's default: the
  most recent) or `first_touch` (the earliest). Ties go to the touch listed first in the order
  (the first code typed, the click in the landing URL).
- An order with no qualifying touch is **unattributed**, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Kind = Literal["code", "click"]
Precedence = Literal["code", "link", "recency"]
# The models that give one touch the whole order; the others split it (crediting/service.py),
# and their lead touch (the order's explanation, its rule) is the one last touch would pick.
WHOLE_ORDER_MODELS = ("last_touch", "first_touch")
DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class Touch:
    kind: Kind
    creator_id: str
    creator: str  # how the creator is named in explanations: "@maya", or the creator id
    campaign_id: str | None
    at: datetime
    label: str  # the code as typed, or the link's slug
    window_days: int = DEFAULT_WINDOW_DAYS  # clicks: the link's attribution window
    flagged: str | None = None  # why the click is never credited ("a link-preview fetcher (Slackbot)")
    dead: str | None = None  # why the code or link was not live at the order ("revoked on 2026-11-02")
    position: int = 0  # its place among the order's touches (first code typed = 0)


@dataclass(frozen=True, slots=True)
class Policy:
    precedence: Precedence = "code"
    model: str = "last_touch"  # one of services.attribution.models.MODEL_NAMES

    @property
    def lead_model(self) -> str:
        """How the lead touch is chosen: first touch for `first_touch`, last touch for every other model."""
        return "first_touch" if self.model == "first_touch" else "last_touch"


@dataclass(frozen=True, slots=True)
class Verdict:
    touch: Touch
    credited: bool
    why: str


@dataclass(frozen=True, slots=True)
class Credit:
    winner: Touch | None
    verdicts: tuple[Verdict, ...] = field(default=())

    @property
    def attributed(self) -> bool:
        return self.winner is not None

    @property
    def explanation(self) -> str:
        if not self.verdicts:
            return "unattributed: the order carried no affiliate code and no click id of a tracked link."
        head = (f"credited to {self.winner.creator}: {_describe(self.winner, None)}" if self.winner
                else "unattributed: no touch qualified")
        rest = [v.why for v in self.verdicts if not v.credited]
        return head + ("; " + "; ".join(rest) if rest else "") + "."


def _ago(touch: Touch, placed_at: datetime) -> str:
    delta = placed_at - touch.at
    if delta < timedelta(minutes=1):
        return "at checkout" if touch.kind == "code" else "just before the order"
    days = delta.days
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''} earlier"
    hours = int(delta.total_seconds() // 3600)
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''} earlier"
    return f"{int(delta.total_seconds() // 60)} minutes earlier"


def _describe(touch: Touch, placed_at: datetime | None) -> str:
    if touch.kind == "code":
        return f"code {touch.label} used at checkout"
    when = "" if placed_at is None else f" {_ago(touch, placed_at)}"
    return f"a click on link {touch.label}{when}"


def _disqualified(touch: Touch, placed_at: datetime) -> str | None:
    if touch.flagged:
        return f"{touch.flagged} is never credited"
    if touch.dead:
        return f"it was not live: {touch.dead}"
    if touch.at > placed_at:
        return "it came after the order"
    if touch.kind == "click" and placed_at - touch.at > timedelta(days=touch.window_days):
        return f"it was outside the link's {touch.window_days}-day window"
    return None


def qualifying(placed_at: datetime, touches: list[Touch] | tuple[Touch, ...]) -> list[Touch]:
    """The touches that may be credited, before precedence and the model choose among them."""
    return [t for t in touches if _disqualified(t, placed_at) is None]


def _preferred(policy: Policy) -> Kind | None:
    return {"code": "code", "link": "click", "recency": None}[policy.precedence]  # type: ignore[return-value]


def candidates(placed_at: datetime, touches: list[Touch] | tuple[Touch, ...], policy: Policy = Policy()) -> list[Touch]:
    """The touches precedence leaves among the qualifying ones: what the model chooses among (a
    whole-order model) or splits the order over (the others)."""
    pool = qualifying(placed_at, touches)
    preferred = _preferred(policy)
    if preferred and any(t.kind == preferred for t in pool):
        pool = [t for t in pool if t.kind == preferred]
    return pool


def credit(placed_at: datetime, touches: list[Touch] | tuple[Touch, ...], policy: Policy = Policy()) -> Credit:
    """The credited (lead) touch, or None, and a verdict with its reason for every touch."""
    verdicts: dict[int, Verdict] = {}
    for i, touch in enumerate(touches):
        reason = _disqualified(touch, placed_at)
        if reason:
            verdicts[i] = Verdict(touch, False, f"{_describe(touch, placed_at)} by {touch.creator} was not credited: {reason}")
    pool = candidates(placed_at, touches, policy)
    preferred = _preferred(policy)
    lead_model = policy.lead_model
    winner = None
    if pool:
        ranked = sorted(pool, key=lambda t: (t.at, -t.position))
        winner = ranked[-1] if lead_model == "last_touch" else min(pool, key=lambda t: (t.at, t.position))
    for i, touch in enumerate(touches):
        if i in verdicts:
            continue
        if touch is winner:
            verdicts[i] = Verdict(touch, True, f"credited to {touch.creator}: {_describe(touch, placed_at)}")
        elif winner is not None and touch.kind != winner.kind and preferred is not None:
            why = "codes take precedence" if preferred == "code" else "links take precedence"
            verdicts[i] = Verdict(touch, False, f"{_describe(touch, placed_at)} by {touch.creator} was not credited because {why}")
        else:
            order = "later" if lead_model == "last_touch" else "earlier"
            verdicts[i] = Verdict(touch, False, f"{_describe(touch, placed_at)} by {touch.creator} was not credited: "
                                                f"{winner.creator if winner else 'another touch'}'s {winner.kind if winner else 'touch'} "
                                                f"was {order} ({lead_model.replace('_', ' ')})")
    return Credit(winner, tuple(verdicts[i] for i in range(len(touches))))
