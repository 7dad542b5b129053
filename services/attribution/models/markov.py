"""The Markov-chain removal-effect model (Anderl, Becker, von Wangenheim, Schumann 2014,
"Mapping the customer journey: a graph-based framework for online attribution modeling").

Every path is a walk through a chain: `start` → the creators it touched, in order → `conversion`
(the path ended in an order) or `null` (it did not). The transition probabilities are the
observed transition counts divided by the counts leaving each state. A creator's **removal
effect** is how much of the chain's conversion probability disappears when the creator is taken
out — every transition into it goes to `null` instead:

    removal effect(c) = 1 − P(conversion | c removed) / P(conversion)

and its share of the credit is its removal effect over the sum of all removal effects.

The conversion probability is the absorption probability in `conversion` from `start`, the
solution of the sparse linear system (I − Q) x = r (Q: transitions among the transient states,
r: each state's probability of converting next; Kemeny & Snell's fundamental matrix), once for
the full chain and once per creator — no random walks are simulated. A first-order chain (one
state per creator) is solved by sparse LU; a large higher-order chain by its series with a
proven error bound below 1e-15 (`absorption` says why).

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
DIRECT_MAX = 500  # states solved by sparse LU; larger chains by the bounded series (see `absorption`)
TOLERANCE = 1e-15
MAX_STEPS = 10_000
BLOCK = 64  # removal columns solved at once


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


def absorption(q: sp.csr_matrix, r: np.ndarray, keep: np.ndarray, direct_max: int = DIRECT_MAX) -> np.ndarray:
    """P(conversion) from `start` (state 0) for each column of `keep` (1: the state stays, 0: it is
    removed, every transition into it goes to `null`).

    Up to `direct_max` states: (I − Q') x = r' solved by sparse LU (SuperLU), per column. Beyond,
    the LU of a higher-order chain fills in (every state reaches most others) and costs seconds
    per creator, so x is summed as its series r' + Q'r' + Q'²r' + … until the probability of
    being still on the way after n steps, (Q^n 1)_i — which bounds what the remaining terms can
    add, for every column, since Q' ≤ Q — is below `TOLERANCE` in every state: the same solution
    to 1e-15, with a proven bound rather than a stopping heuristic. A chain whose walks are too
    long to get there in `MAX_STEPS` is solved by LU after all."""
    n, columns = keep.shape
    if n <= direct_max:
        eye = sp.identity(n, format="csr")
        out = np.empty(columns)
        for j in range(columns):
            d = sp.diags(keep[:, j])
            out[j] = spsolve((eye - d @ q @ d).tocsc(), keep[:, j] * r)[0]
        return out
    x = keep * r[:, None]
    term = x.copy()
    alive = np.ones(n)
    for _ in range(MAX_STEPS):
        alive = q @ alive
        if alive.max() <= TOLERANCE:
            return x[0]
        term = keep * (q @ term)
        x += term
    return absorption(q, r, keep, direct_max=n)


def fit(paths: Sequence[Path], order: int = 1, *, direct_max: int = DIRECT_MAX) -> MarkovFit:
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
    q = (sp.diags(1.0 / out) @ q).tocsr()
    r = np.asarray(conv, dtype=float) / out
    holding: dict[str, list[int]] = {}
    for state, i in index.items():
        for creator in set(state):
            holding.setdefault(creator, []).append(i)
    creators = sorted(holding)
    # Column 0: the full chain; column j: creator j−1 removed (its states kept at 0). Solved
    # BLOCK columns at a time, so memory is states × BLOCK whatever the number of creators (a
    # 4th-order chain of 2,000 creators held states × 2,001 numbers three times over: gigabytes).
    parts = []
    for first in range(0, len(creators) + 1, BLOCK):
        columns = range(first, min(first + BLOCK, len(creators) + 1))
        keep = np.ones((n, len(columns)))
        for k, j in enumerate(columns):
            if j:
                keep[holding[creators[j - 1]], k] = 0.0
        parts.append(absorption(q, r, keep, direct_max))
    p = np.concatenate(parts)
    p_full = float(p[0])
    effects = {c: max(0.0, 1.0 - float(p[j]) / p_full) for j, c in enumerate(creators, start=1)}
    rounded = {c: Fraction(Decimal(e).quantize(_QUANTUM)) for c, e in effects.items()}
    total = sum(rounded.values(), Fraction(0))
    if not total:
        raise InsufficientData("no creator's removal lowers the conversion probability measurably")
    shares = {c: e / total for c, e in rounded.items() if e}
    return MarkovFit(order, len(paths), converting, n - 1, p_full, effects, shares)
