"""The Markov-chain removal-effect model (Anderl, Becker, von Wangenheim, Schumann 2014,
"Mapping the customer journey: a graph-based framework for online attribution modeling").

Every path is a walk through a chain: `start` → the creators it touched, in order → `conversion`
(the path ended in an order) or `null` (it did not). The transition probabilities are the
observed transition counts divided by the counts leaving each state. A creator's **removal
effect** is how much of the chain's conversion probability disappears when the creator is taken
out — every transition into it goes to `null` instead:

    removal effect(c) = 1 − P(conversion | c removed) / P(conversion)

and its share of the credit is its removal effect over the sum of all removal effects.

The conversion probability is the absorption probability in `conversion` from `start`, solved
exactly as the sparse linear system (I − Q) x = r (Q: transitions among the transient states, r:
each state's probability of converting next; Kemeny & Snell's fundamental matrix), once for the
full chain and once per creator — no random walks are simulated.

At **order k** a state is the tuple of the last k creators (fewer at the start of a path), so
the chain remembers where a visitor came from; removing a creator removes every state that
contains it. Consecutive touches by the same creator are collapsed to one step first: a
creator's second click in a row is not a move toward or away from an order. At order 1 this
changes no removal effect (a self-loop leaves the exit probabilities of a state as they were); at
higher orders it keeps the states about *different* creators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from services.attribution.models.errors import InsufficientData
from services.attribution.models.paths import Path

# Removal effects are rounded to 12 decimal places before they become exact fractions: the linear
# solver's last bits may differ between machines (BLAS, SuperLU builds), the shares must not.
_QUANTUM = Decimal("1e-12")


@dataclass(frozen=True, slots=True)
class MarkovFit:
    order: int
    paths: int
    converting_paths: int
    states: int  # transient states besides `start`
    conversion_probability: float
    removal_effects: dict[str, float]
    shares: dict[str, Fraction]  # creator → removal effect / sum of removal effects; sums to 1


def _states(creators: tuple[str, ...], order: int) -> list[tuple[str, ...]]:
    return [creators[max(0, i - order + 1): i + 1] for i in range(len(creators))]


def fit(paths: Sequence[Path], order: int = 1) -> MarkovFit:
    """The chain of `paths` at `order`, its conversion probability and every creator's removal
    effect and share. No path, or no converting path, is `InsufficientData`."""
    if not paths:
        raise InsufficientData("no paths: the Markov model needs the tenant's converting and non-converting paths")
    converting = sum(1 for p in paths if p.converted)
    if not converting:
        raise InsufficientData(f"no converting path among {len(paths)} paths: nothing to attribute")
    index: dict[tuple[str, ...], int] = {}
    rows: list[int] = []
    cols: list[int] = []
    conv = [0]
    exits = [0]  # transitions out of each transient state, to anywhere
    for path in paths:
        prev = 0
        for state in _states(path.creators, order):
            i = index.get(state)
            if i is None:
                i = index[state] = len(conv)
                conv.append(0)
                exits.append(0)
            rows.append(prev)
            cols.append(i)
            exits[prev] += 1
            prev = i
        exits[prev] += 1
        if path.converted:
            conv[prev] += 1
    n = len(conv)
    out = np.asarray(exits, dtype=float)
    q = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))  # duplicates add up: counts
    q = sp.diags(1.0 / out) @ q
    r = np.asarray(conv, dtype=float) / out
    eye = sp.identity(n, format="csr")

    def p_conversion(keep: np.ndarray | None) -> float:
        if keep is None:
            return float(spsolve((eye - q).tocsc(), r)[0])
        d = sp.diags(keep)
        return float(spsolve((eye - d @ q @ d).tocsc(), keep * r)[0])

    p_full = p_conversion(None)
    holding: dict[str, list[int]] = {}
    for state, i in index.items():
        for creator in set(state):
            holding.setdefault(creator, []).append(i)
    effects: dict[str, float] = {}
    for creator in sorted(holding):
        keep = np.ones(n)
        keep[holding[creator]] = 0.0
        effects[creator] = max(0.0, 1.0 - p_conversion(keep) / p_full)
    rounded = {c: Fraction(Decimal(e).quantize(_QUANTUM)) for c, e in effects.items()}
    total = sum(rounded.values(), Fraction(0))
    if not total:
        raise InsufficientData("no creator's removal lowers the conversion probability measurably")
    shares = {c: e / total for c, e in rounded.items() if e}
    return MarkovFit(order, len(paths), converting, n - 1, p_full, effects, shares)
