"""Follower classifier throughput: followers per second through `audience_types` (features from
raw `FollowerProfile`s, the model, the precedence rules), for batches of 1,000 and 100,000, on one
core (the process pins itself), beside two baselines measured in the same run: the precedence rules alone (reading the two
counts, no features, no model) and the feature extraction alone.

Run on purpose, never from pytest: `.venv/bin/python bench/audit_classifier.py [--rounds 7]`.
The followers are synthetic but shaped like a real sample (usernames with and without digits,
empty and filled biographies, counts spread over orders of magnitude), seeded. Each figure is
the median of the rounds; the machine is shared, so read the ratios to the baselines.
Target (issue 8): >= 200,000 followers/s classified.
"""

import argparse
import os
import random
import statistics
import string
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import record  # noqa: E402
from services.audit.engine.classifier import default_model  # noqa: E402
from services.audit.engine.classifier.features import features_from_profiles  # noqa: E402
from services.audit.engine.classifier.model import audience_types_of  # noqa: E402
from services.audit.engine.types import FollowerProfile  # noqa: E402

TARGET = 200_000


def followers(n: int, seed: int) -> list[FollowerProfile]:
    rng = random.Random(seed)
    letters = string.ascii_lowercase
    out = []
    for _ in range(n):
        name = "".join(rng.choice(letters) for _ in range(rng.randint(5, 14)))
        if rng.random() < 0.3:
            name += str(rng.randint(0, 99999))
        out.append(FollowerProfile(
            username=name,
            full_name=rng.choice(["", "Anna Meier", "Jo", None]),
            biography=rng.choice(["", "coffee, trains and maps", None]),
            media_count=int(10 ** rng.uniform(0, 3.5)) if rng.random() > 0.1 else 0,
            follower_count=int(10 ** rng.uniform(0, 4.5)),
            following_count=int(10 ** rng.uniform(0, 3.8)),
            has_profile_pic=rng.random() > 0.05,
            is_private=rng.random() < 0.25,
            is_verified=False,
            external_url=rng.choice([None, "", "https://example.org"]),
        ))
    return out


def rates(works: Sequence[Callable[[Sequence[FollowerProfile]], object]], batch: list[FollowerProfile],
          rounds: int) -> list[float]:
    """Median followers/s of each work over the rounds. The works take turns within a round, so a
    burst of load from elsewhere hits all of them alike; a round repeats the batch until 200,000
    followers are done, so a small batch's figure is not one timer tick."""
    calls = max(1, 200_000 // len(batch))
    times: list[list[float]] = [[] for _ in works]
    for _ in range(rounds):
        for work, spent in zip(works, times, strict=True):
            started = time.perf_counter()
            for _ in range(calls):
                work(batch)
            spent.append((time.perf_counter() - started) / calls)
    return [len(batch) / statistics.median(spent) for spent in times]


def rules_only(batch: Sequence[FollowerProfile]) -> object:
    return audience_types_of([False] * len(batch), [f.following_count for f in batch], [f.follower_count for f in batch])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    # One core, as the target says: the process is pinned, and NumPy's work here is single-threaded.
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    model = default_model()
    load0 = os.getloadavg()
    print(f"model {model.version}; {os.cpu_count()} cores, one used; load average "
          f"{' '.join(f'{x:.2f}' for x in load0)} at start")
    print(f"{'batch':>8}  {'rules alone':>14}  {'features alone':>15}  {'classified':>14}  target {TARGET:,}/s")
    for size in (1_000, 100_000):
        batch = followers(size, seed=size)
        model.audience_types(batch)  # warm: first-call allocations out of the figures
        rules, features, classified = rates((rules_only, features_from_profiles, model.audience_types), batch, args.rounds)
        verdict = "meets" if classified >= TARGET else "MISSES"
        print(f"{size:>8,}  {rules:>12,.0f}/s  {features:>13,.0f}/s  {classified:>12,.0f}/s  {verdict} "
              f"(classified costs {rules / classified:.1f}x the rules alone)")
        record(f"followers classified, batches of {size:,}", classified, "followers/s", target=TARGET, better="higher",
               baseline="features alone", baseline_value=features, note=f"median of {args.rounds} rounds, one core")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at end")


if __name__ == "__main__":
    main()
