"""A campaign's customer paths, built from its rows (repository.py): pure, no I/O.

- **Converting path**: one order credited to the campaign. Its touches are the order's own
  qualifying touches — its codes of this campaign (live when it was placed) and the clicks on the
  campaign's links whose ids it carried back — plus the **earlier clicks of the same visitor**
  (clicks share `visitor_hash`, the keyed hash of the client address) on the campaign's links.
  A click qualifies as crediting decides (crediting/credit.py): not flagged, not after the order,
  inside its link's attribution window before the order, its link not revoked then. So a click
  before the period counts when its window reaches an order in the period; a click after the
  period never does. Orders are taken oldest first and a visitor's click goes to the first order
  it reaches: a returning customer's second path starts after the first order.
- **Code redemptions** carry no visitor (a code is typed at checkout, nothing links it to a
  browser), so a code-only order is a path of its own: just its codes.
- **Non-converting path**: one visitor's qualifying clicks in the period that no order took up.
  A click with no visitor hash (no client address) is a path of its own.

Each converting path carries its order's commission basis now (after refunds) as its value and
its net commission in the ledger; paths are grouped by the order's currency (never mixed in one
fit); the non-converting paths carry no money and belong to every currency's set.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.attribution.models import Path, Touch


@dataclass(frozen=True, slots=True)
class Conversion:
    """A converting path and the money it carries: what the comparison splits by each model's shares."""

    order_ref: uuid.UUID
    path: Path
    revenue_minor: int  # the order's commission basis now (after refunds)
    commission_minor: int  # its net commission in the ledger (commissions + clawbacks)


@dataclass
class PathSet:
    """A campaign's paths: the converting ones per currency, the non-converting ones (for every
    currency), and the orders that had no touch of the campaign left to make a path."""

    conversions: dict[str, list[Conversion]] = field(default_factory=dict)
    non_converting: list[Path] = field(default_factory=list)
    orders_without_touch: dict[str, int] = field(default_factory=dict)

    def paths(self, currency: str) -> list[Path]:
        return [c.path for c in self.conversions.get(currency, [])] + self.non_converting


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def _qualifies(click, placed_at: datetime) -> bool:
    """As crediting/credit.py decides it for a click."""
    if click.flagged or click.clicked_at > placed_at:
        return False
    if click.revoked_at is not None and click.revoked_at <= click.clicked_at:
        return False
    return placed_at - click.clicked_at <= timedelta(days=click.window_days)


def _live_code(code, placed_at: datetime) -> bool:
    return not ((code.revoked_at is not None and code.revoked_at <= placed_at)
                or (code.expires_at is not None and code.expires_at <= placed_at))


def build(orders: Iterable, commissions: Iterable, clicks: Iterable, codes: Iterable, start: datetime,
          end: datetime) -> PathSet:
    """The campaign's paths from its rows: `orders` oldest first (id, placed_at, currency,
    basis_minor, codes, click_ids), `commissions` (id, currency, commission), `clicks` (id,
    visitor_hash, creator_id, clicked_at, flagged, window_days, revoked_at), `codes` (code,
    creator_id, revoked_at, expires_at); clicks in [start, end) that no order took up make the
    non-converting paths."""
    clicks = list(clicks)
    by_id = {c.id: c for c in clicks}
    by_visitor: dict[str, list] = defaultdict(list)
    for c in clicks:
        if c.visitor_hash is not None:
            by_visitor[c.visitor_hash].append(c)
    by_code = {c.code.upper(): c for c in codes}
    commission: dict[uuid.UUID, int] = defaultdict(int)
    for row in commissions:
        commission[row.id] += int(row.commission)
    taken: set[uuid.UUID] = set()
    out = PathSet()
    for order in orders:
        placed = order.placed_at
        touches: list[Touch] = []
        for typed in order.codes or ():
            code = by_code.get(typed.upper())
            if code is not None and _live_code(code, placed):
                touches.append(Touch(str(code.creator_id), "code", placed))
        carried = [by_id[i] for i in (_as_uuid(x) for x in order.click_ids or ()) if i in by_id]
        carried = [c for c in carried if _qualifies(c, placed)]
        mine = {c.id: c for c in carried}
        for visitor in dict.fromkeys(c.visitor_hash for c in carried if c.visitor_hash is not None):
            for c in by_visitor[visitor]:
                if c.id not in taken and c.id not in mine and _qualifies(c, placed):
                    mine[c.id] = c
        taken.update(mine)
        # Clicks before codes at the same instant: a code is typed at checkout, after the click.
        touches[:0] = [Touch(str(c.creator_id), "click", c.clicked_at) for c in sorted(mine.values(), key=lambda c: (c.clicked_at, c.id))]
        if not touches:
            out.orders_without_touch[order.currency] = out.orders_without_touch.get(order.currency, 0) + 1
            continue
        path = Path(tuple(touches), True, max(int(order.basis_minor), 0), placed)
        out.conversions.setdefault(order.currency, []).append(
            Conversion(order.id, path, int(order.basis_minor), commission.get(order.id, 0)))
    left: dict[object, list] = defaultdict(list)
    for c in clicks:
        if c.id in taken or c.flagged or not start <= c.clicked_at < end:
            continue
        if c.revoked_at is not None and c.revoked_at <= c.clicked_at:
            continue
        left[c.visitor_hash if c.visitor_hash is not None else c.id].append(c)
    out.non_converting = [Path(tuple(Touch(str(c.creator_id), "click", c.clicked_at) for c in found), False)
                          for found in left.values()]
    return out
