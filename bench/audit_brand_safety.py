"""Texts per second through the brand-safety matcher (services.audit.engine.brandsafety), one core.

The texts: captions and comments of 8 to 40 words drawn (seeded) from an English, German, French
and Spanish vocabulary with accents, hashtags and emoji; about one text in ten holds a listed
term. Lists: the default list and a tenant list of 500 brand names, as the largest check applies.
Printed beside baselines of the same run: folding alone (normalise.fold, which every match
needs), and the naive way, one compiled `\\b<term>\\b` expression per term run over each text
(measured on fewer texts). The load average is printed, because the machine is shared: compare
within a run, not across runs.

`python bench/audit_brand_safety.py [--texts 20000] [--rounds 3]`
"""

import argparse
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import record  # noqa: E402
from services.audit.engine.brandsafety.lists import Term, TermList, default_list  # noqa: E402
from services.audit.engine.brandsafety.matcher import compile_list  # noqa: E402
from services.audit.engine.brandsafety.normalise import fold  # noqa: E402
from services.audit.engine.brandsafety.scan import scan  # noqa: E402

WORDS = (
    "love this summer look new collection today beach sunset coffee morning run friends family travel "
    "Sommer Strand Freunde Kaffee Frühstück schön Straße München heute café été plage amis très belle "
    "journée verano playa amigos mañana año señora niño #ootd #summer #fashion #travel #Reisen #MadeInBerlin "
    "❤️ 🔥 ✨ link in bio @friend_1"
).split()
FLAGGED = ("vodka", "casino", "Kokain", "fusillade", "mierda", "hate speech", "#GunControl", "p0rn")


def texts(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = rng.choices(WORDS, k=rng.randint(8, 40))
        if rng.random() < 0.1:
            words.insert(rng.randrange(len(words)), rng.choice(FLAGGED))
        out.append(" ".join(words))
    return out


def per_second(fn, items) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best is reported")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    default = default_list().terms
    brands = TermList(label="brands", version="r1",
                      terms=tuple(Term(f"brand{i:03d} cola", "competitor_brands") for i in range(500)))
    started = time.perf_counter()
    matchers = [compile_list(default), compile_list(brands)]
    compile_ms = (time.perf_counter() - started) * 1000
    sample = texts(args.texts)
    hits = sum(len(scan(t, matchers)) for t in sample)
    print(f"texts: {len(sample):,}, mean {sum(map(len, sample)) / len(sample):.0f} characters; hits: {hits:,}; "
          f"lists: {len(default.terms)} default terms + {len(brands.terms)} tenant terms, compiled in {compile_ms:.0f} ms")

    matched = max(per_second(lambda t: scan(t, matchers), sample) for _ in range(args.rounds))
    folded = max(per_second(fold, sample) for _ in range(args.rounds))
    naive_terms = [re.compile(r"\b" + re.escape(t.text.lower()) + r"\b") for t in (*default.terms, *brands.terms)]
    few = sample[: max(200, len(sample) // 20)]
    naive = max(per_second(lambda t: [p.search(t.lower()) for p in naive_terms], few) for _ in range(args.rounds))
    print(f"matcher (default + tenant list): {matched:,.0f} texts/s")
    print(f"baseline, folding alone:         {folded:,.0f} texts/s")
    print(f"baseline, one regex per term:    {naive:,.0f} texts/s (no folding, {len(few):,} texts)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    note = f"{len(sample):,} texts, {len(default.terms)} + {len(brands.terms)} terms, best of {args.rounds} rounds, one core"
    record("brand-safety matcher", matched, "texts/s", better="higher", baseline="folding alone", baseline_value=folded,
           note=note)
    record("brand-safety matcher, speed-up over one regex per term", matched / naive, "ratio", better="higher", note=note)
    record("brand-safety lists compiled", compile_ms, "ms", note=note)


if __name__ == "__main__":
    main()
