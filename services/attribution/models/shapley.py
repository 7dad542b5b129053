"""Shapley-value attribution over the creators on a tenant's paths.

The game (Zhao, Mahboobi, Bagheri 2018, "Shapley Value Methods for Attribution Modeling in
Online Advertising", section 3; the channel formulation of Dalessandro, Perlich, Stitelman,
Provost 2012): the players are the creators; a coalition S is worth the conversions (or their
value) of the converting paths whose set of creators lies inside S,

    v(S) = Σ_{paths p converting, creators(p) ⊆ S} w(p),    w(p) = 1, or the order's value.

A creator's Shapley value is its marginal contribution v(S ∪ {c}) − v(S) averaged over every
order in which the creators could join; the values add up to v(all) — every conversion (or all
the value) is handed out, none invented. A creator seen only on non-converting paths is a null
player: it adds nothing to any coalition and gets exactly 0 (the null-player axiom), so it is
left out of the computation.

**Coalition counting**: the converting paths are grouped once by their creator set (a bitmask);
v over all 2^N coalitions is then the sum over subsets of those groups (a zeta transform,
N·2^N additions) instead of a scan of the paths per coalition.

- **Exact** up to `exact_max` creators (default 15, at most 20): every coalition, integer
  sums grouped by coalition size, weighted by |S|!(N−|S|−1)!/N! as exact fractions.
- **Sampled** beyond: `samples` random orders of the creators (Castro, Gómez, Tejada 2009),
  drawn from numpy's PCG64 seeded with `seed`, so a run is reproducible. In one order, each
  group's weight goes to the member of the group that joins last (that is where v jumps by it).
  Groups of one creator go to it in every order and are counted exactly, not sampled. Each
  creator's estimate carries its standard error (sample standard deviation of its marginal
  contributions / √samples) and a 95 % interval (± 1.96 standard errors, normal
  approximation). Every sampled order hands out exactly v(all), so the estimates still add up.

For this game the Shapley value also has a closed form (Zhao et al. 2018, "simplified Shapley
value"): Σ over converting path groups T containing c of w(T)/|T|. The tests use it as an
independent check of both the exact and the sampled computation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import factorial
from typing import Literal

import numpy as np

from services.attribution.models.errors import InsufficientData
from services.attribution.models.paths import Path
from services.attribution.models.params import ShapleyParams

_QUANTUM = Decimal("1e-12")
_BATCH = 64  # sampled orders per vectorised step
Z95 = 1.96


@dataclass(frozen=True, slots=True)
class ShapleyFit:
    value: str  # "conversions" or "value"
    method: Literal["exact", "sampled"]
    samples: int  # 0 when exact
    seed: int
    paths: int
    converting_paths: int
    players: int  # creators on converting paths
    total: int  # v(all creators): the conversions, or their value in minor units
    values: dict[str, float]  # creator → Shapley value (conversions or minor units)
    standard_errors: dict[str, float]  # 0.0 when exact
    shares: dict[str, Fraction]  # creator → value / total; sums to 1

    def interval(self, creator: str) -> tuple[float, float]:
        """The 95 % interval of the creator's Shapley value (a point when exact)."""
        v, se = self.values.get(creator, 0.0), self.standard_errors.get(creator, 0.0)
        return (v - Z95 * se, v + Z95 * se)


def coalitions(paths: Sequence[Path], by_value: bool) -> dict[frozenset[str], int]:
    """The converting paths grouped by their set of creators: each set's conversions or value."""
    groups: dict[frozenset[str], int] = defaultdict(int)
    for p in paths:
        if p.converted:
            groups[p.creator_set] += p.value_minor if by_value else 1
    return {k: w for k, w in groups.items() if w}


def exact(groups: dict[frozenset[str], int], players: list[str]) -> dict[str, Fraction]:
    """Every creator's exact Shapley value, by coalition counting over all 2^N coalitions."""
    n = len(players)
    bit = {c: 1 << i for i, c in enumerate(players)}
    # A size's sum adds up to 2^(N−1) gains of at most v(all) each: Python integers past int64.
    wide = sum(groups.values()) << max(n - 1, 0) >= 2**62
    v = np.zeros(1 << n, dtype=object if wide else np.int64)
    if wide:
        v[:] = 0
    for members, w in groups.items():
        v[sum(bit[c] for c in members)] += w
    for i in range(n):  # zeta transform: v[S] = Σ_{T ⊆ S} w(T)
        view = v.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    size = np.bitwise_count(np.arange(1 << n, dtype=np.int64))
    weights = [Fraction(factorial(s) * factorial(n - s - 1), factorial(n)) for s in range(n)]
    out: dict[str, Fraction] = {}
    for i, c in enumerate(players):
        view = v.reshape(-1, 2, 1 << i)
        gain = (view[:, 1, :] - view[:, 0, :]).ravel()
        sizes = size.reshape(-1, 2, 1 << i)[:, 0, :].ravel()
        # The coalitions without c have every size from 0 to N−1, so each size's run is non-empty.
        by_size = np.argsort(sizes, kind="stable")
        sums = np.add.reduceat(gain[by_size], np.searchsorted(sizes[by_size], np.arange(n)))
        out[c] = sum((weights[s] * int(sums[s]) for s in range(n)), Fraction(0))
    return out


def sampled(groups: dict[frozenset[str], int], players: list[str], samples: int, seed: int) -> tuple[dict[str, float], dict[str, float]]:
    """Every creator's Shapley value estimated over `samples` random orders, and its standard error."""
    n = len(players)
    at = {c: i for i, c in enumerate(players)}
    fixed = np.zeros(n)
    multi: list[tuple[list[int], int]] = []
    for members, w in groups.items():
        if len(members) == 1:
            fixed[at[next(iter(members))]] += w
        else:
            multi.append((sorted(at[c] for c in members), w))
    total = np.zeros(n)
    squares = np.zeros(n)
    if multi:
        width = max(len(m) for m, _ in multi)
        members = np.full((len(multi), width), n, dtype=np.int64)  # n: padding, ranked −1 below
        for g, (m, _) in enumerate(multi):
            members[g, :len(m)] = m
        w = np.array([w for _, w in multi], dtype=float)
        rng = np.random.default_rng(seed)
        done = 0
        while done < samples:
            b = min(_BATCH, samples - done)
            orders = rng.permuted(np.tile(np.arange(n), (b, 1)), axis=1)
            ranks = np.full((b, n + 1), -1, dtype=np.int64)
            np.put_along_axis(ranks, orders, np.arange(n)[None, :].repeat(b, 0), axis=1)
            last = np.take_along_axis(members[None, :, :].repeat(b, 0),
                                      ranks[:, members].argmax(axis=2)[:, :, None], axis=2)[:, :, 0]
            gains = np.bincount((last + np.arange(b)[:, None] * n).ravel(),
                                weights=np.broadcast_to(w, last.shape).ravel(), minlength=b * n).reshape(b, n)
            total += gains.sum(axis=0)
            squares += (gains ** 2).sum(axis=0)
            done += b
        mean = total / samples
        var = np.maximum(squares - samples * mean ** 2, 0.0) / (samples - 1)
        se = np.sqrt(var / samples)
    else:
        mean, se = np.zeros(n), np.zeros(n)
    values = {c: float(fixed[i] + mean[i]) for i, c in enumerate(players)}
    errors = {c: float(se[i]) for i, c in enumerate(players)}
    return values, errors


def fit(paths: Sequence[Path], params: ShapleyParams = ShapleyParams()) -> ShapleyFit:
    """Every creator's Shapley value and share over `paths`. No path, no converting path, or
    (by value) converting paths worth nothing, is `InsufficientData`."""
    if not paths:
        raise InsufficientData("no paths: the Shapley model needs the tenant's paths")
    converting = sum(1 for p in paths if p.converted)
    if not converting:
        raise InsufficientData(f"no converting path among {len(paths)} paths: nothing to attribute")
    by_value = params.value == "value"
    groups = coalitions(paths, by_value)
    if not groups:
        raise InsufficientData(f"the {converting} converting paths carry no value (value_minor 0): use value=conversions")
    players = sorted({c for members in groups for c in members})
    total = sum(groups.values())
    if len(players) <= params.exact_max:
        values = exact(groups, players)
        shares = {c: v / total for c, v in values.items() if v}
        return ShapleyFit(params.value, "exact", 0, params.seed, len(paths), converting, len(players), total,
                          {c: float(v) for c, v in values.items()}, {c: 0.0 for c in players}, shares)
    estimates, errors = sampled(groups, players, params.samples, params.seed)
    rounded = {c: Fraction(Decimal(max(v, 0.0) / total).quantize(_QUANTUM)) for c, v in estimates.items()}
    norm = sum(rounded.values(), Fraction(0))
    shares = {c: r / norm for c, r in rounded.items() if r}
    return ShapleyFit(params.value, "sampled", params.samples, params.seed, len(paths), converting, len(players), total,
                      estimates, errors, shares)
