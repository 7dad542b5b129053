"""The model comparison's own cost at a campaign's scale: building the customer paths from the
rows the four statements return, then each model's fit and its per-order money split — the
endpoint's work after the database — beside building the paths alone, in the same run.

Rows (seeded): `--visitors` visitors' clicks over `--creators` creators' links (Zipf popularity,
1–6 clicks a visitor), ~4.5 % of visitors ordering through their last click, a tenth of those
with a creator's code too, plus code-only orders (a fifth as many). Pure code, no platform: the
statements' own time is the reports' (ADR 0036).

`python bench/attribution_comparison.py [--visitors 47000] [--creators 50] [--buy-rate 0.032] [--timeout 600]`;
`--buy-rate 0.075` reaches the order cap (5,000 orders).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import signal
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path as FilePath
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(FilePath(__file__).resolve().parent.parent))

from bench.harness import record  # noqa: E402
from services.attribution.comparison import paths as building, service  # noqa: E402
from services.attribution.comparison.schemas import ComparisonQuery  # noqa: E402
from services.attribution.models import MODEL_NAMES  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=timezone.utc)
LENGTHS = np.array([0.45, 0.25, 0.14, 0.08, 0.05, 0.03])


def rows(n_visitors: int, n_creators: int, seed: int, buy_rate: float):
    rng = np.random.default_rng(seed)
    creators = [uuid.UUID(int=i + 1) for i in range(n_creators)]
    popularity = 1.0 / np.arange(1, n_creators + 1) ** 1.1
    popularity /= popularity.sum()
    lengths = rng.choice(np.arange(1, 7), size=n_visitors, p=LENGTHS)
    chosen = rng.choice(n_creators, size=int(lengths.sum()), p=popularity)
    gaps = rng.exponential(36 * 3600, int(lengths.sum()))
    starts = rng.uniform(0, 20 * 24 * 3600, n_visitors)
    buys = rng.random(n_visitors) < buy_rate * (1 + 0.15 * (lengths - 1))
    codes = [SimpleNamespace(code=f"CODE{i}", creator_id=c, revoked_at=None, expires_at=None) for i, c in enumerate(creators)]
    clicks, orders, commissions = [], [], []
    at = 0
    for v, length in enumerate(lengths):
        visitor = f"{v:064x}"
        times = starts[v] + np.cumsum(gaps[at: at + length])
        mine = [SimpleNamespace(id=uuid.uuid4(), visitor_hash=visitor, creator_id=creators[c], flagged=False, window_days=30,
                                revoked_at=None, clicked_at=START + timedelta(seconds=float(t)))
                for c, t in zip(chosen[at: at + length], times)]
        at += length
        clicks.extend(mine)
        if buys[v]:
            used = [f"code{rng.integers(n_creators)}"] if rng.random() < 0.1 else []
            order = SimpleNamespace(id=uuid.uuid4(), placed_at=mine[-1].clicked_at + timedelta(hours=1), currency="USD",
                                    basis_minor=int(rng.integers(2_000, 20_001)), codes=used, click_ids=[str(mine[-1].id)])
            orders.append(order)
    for _ in range(len(orders) // 5):
        orders.append(SimpleNamespace(id=uuid.uuid4(), placed_at=START + timedelta(seconds=float(rng.uniform(0, 20 * 86400))),
                                      currency="USD", basis_minor=int(rng.integers(2_000, 20_001)),
                                      codes=[f"CODE{rng.integers(n_creators)}"], click_ids=[]))
    orders.sort(key=lambda o: o.placed_at)
    clicks.sort(key=lambda c: c.clicked_at)
    commissions = [SimpleNamespace(id=o.id, currency="USD", commission=o.basis_minor // 10) for o in orders]
    return orders, commissions, clicks, codes


def timed(label: str, fn, baseline: float | None = None):
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    ratio = f"{cpu / baseline:7.1f}x building the paths" if baseline else ""
    print(f"  {label:<40} {seconds:7.2f} s wall {cpu:7.2f} s CPU  {ratio}", flush=True)
    return result, cpu


def overran(*_):
    print("overran --timeout", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=47_000)  # ~100,000 clicks: the cap
    parser.add_argument("--creators", type=int, default=50)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--buy-rate", type=float, default=0.032, help="a one-click visitor's chance to order")
    parser.add_argument("--timeout", type=int, default=600, help="hard limit, seconds")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, overran)
    signal.alarm(args.timeout)
    made = time.perf_counter()
    orders, commissions, clicks, codes = rows(args.visitors, args.creators, args.seed, args.buy_rate)
    end = max(c.clicked_at for c in clicks) + timedelta(days=1)
    print(f"rows: {len(orders):,} orders, {len(clicks):,} clicks, {args.visitors:,} visitors over {args.creators} creators "
          f"(caps: {service.MAX_ORDERS:,} orders, {service.MAX_CLICKS:,} clicks), generated in {time.perf_counter() - made:.1f} s")
    found, base = timed("building the paths (baseline)", lambda: building.build(orders, commissions, clicks, codes, START, end))
    print(f"  paths: {len(found.paths('USD')):,}, converting {len(found.conversions['USD']):,}")
    total = 0.0
    each: dict[str, float] = {}
    for model in MODEL_NAMES:
        chosen = service.chosen(ComparisonQuery.model_validate({"models": model}))
        _, cpu = timed(f"{model}: fit and money split", lambda: service._currency("USD", found, chosen), base)
        each[model] = cpu
        total += cpu
    print(f"  all seven models: {total:.2f} s CPU ({total / base:.1f}x building the paths)")
    note = f"{len(orders):,} orders, {len(clicks):,} clicks, {args.visitors:,} visitors over {args.creators} creators"
    record("all seven models, fit and money split, CPU", total, "s", baseline="building the paths",
           baseline_value=base, note=note)
    record("paths and all seven models, CPU", base + total, "s", note=note + "; the gateway gives attribution 10 s")
    for model in ("time_decay", "markov", "shapley"):
        record(f"{model} fit and money split, CPU", each[model], "s", baseline="building the paths", baseline_value=base,
               note=note)


if __name__ == "__main__":
    main()
