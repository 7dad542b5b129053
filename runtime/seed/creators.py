"""The world's creators as a lazy sequence: none is held, each is made when asked for (clean, by
creator.py), then given the fraud the plan chose for it (fraud.py)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime

from runtime.seed.creator import identity, make_creator
from runtime.seed.fraud import buy_followers, fake_audience, pod_comments, undisclosed
from runtime.seed.model import Brand, Creator


class Creators(Sequence):
    """The world's creators, each made when asked for (and made again if asked again): creator i
    from `random.Random(f"{seed}:{i}")`, then its planted fraud from generators of its own."""

    def __init__(self, seed: int, count: int, tag: str, anchor: datetime, kinds: dict[int, list[str]],
                 pods: dict[int, list[int]], sponsor: Brand):
        self.seed, self.count, self.tag, self.anchor = seed, count, tag, anchor
        self.kinds_of, self.pods, self.sponsor = kinds, pods, sponsor

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(self.count))]
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(index)
        return self._make(index)

    def _rng(self, i: int, purpose: str = "") -> random.Random:
        return random.Random(f"{self.seed}:{i}{':' + purpose if purpose else ''}")

    def key(self, i: int) -> str:
        """Creator i's key, without making the rest of it."""
        platform, handle, *_ = identity(self._rng(i), i, self.tag)
        return f"{platform}:{handle}"

    def platform(self, i: int) -> str:
        return identity(self._rng(i), i, self.tag)[0]

    def _base(self, i: int) -> Creator:
        return make_creator(self._rng(i), i, self.tag, self.anchor)

    def _make(self, i: int) -> Creator:
        creator = self._base(i)
        kinds = self.kinds_of.get(i, [])
        creator.kinds = list(kinds)
        if "bought_followers" in kinds:
            buy_followers(self._rng(i, "bought"), creator)
        if "fake_audience" in kinds:
            fake_audience(self._rng(i, "fake"), creator)
        if "engagement_pod" in kinds:
            others = [self._base(j) for j in self.pods[i] if j != i]
            pod_comments(self._rng(i, "pod"), creator, others)
        if "undisclosed_sponsored" in kinds:
            undisclosed(self._rng(i, "undisclosed"), creator, self.sponsor)
        return creator

    def indices_of(self, kind: str) -> list[int]:
        return sorted(i for i, kinds in self.kinds_of.items() if kind in kinds)
