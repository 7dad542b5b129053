"""Posts graded per second by the disclosure engine (services.audit.engine.disclosure) on one core.

A seeded, realistic mix: captions of log-normal length (median ~140 characters, some past 1,000),
0-30 hashtags (Instagram's limit), a few mentions, some emoji and accented words; about a third
sponsored, with the labels seen in the wild (#ad up front, "Ad:", #ad buried after the hashtags or
past the fold, #spon / #collab, gifted wording, Werbung / Publicité / #publi, discount codes,
affiliate links, the paid-partnership label alone). Each post is graded as an audit grades it:
sponsorship decided, then US, UK and the creator's country's set (DE) by default.

Printed beside baselines measured in the same run, on the same posts: one `re.search(r"#ad\\b")`
per caption (what a naive check costs), and building the engine's `PostText` alone. The load
average is printed before and after, because the machine is shared: compare within a run.

`python bench/audit_disclosure.py [--posts 20000] [--rounds 3] [--jurisdictions US,UK,DE]`.
Target: >= 20,000 posts graded per second on one core.
"""

import argparse
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import record  # noqa: E402
from services.audit.engine.disclosure.grade import Grader, PostText  # noqa: E402
from services.audit.engine.disclosure.rulebook import default_rulebook  # noqa: E402

TARGET = 20_000
WORDS = (
    "morning coffee light city walk new favourite today weekend trip home kitchen recipe run gym outfit "
    "sunset beach friends family love this finally tried summer autumn winter spring market bakery garden "
    "skincare routine serum book reading playlist studio café très belle journée mañana día straße schön "
    "little things slow living behind the scenes tutorial review honest thoughts unboxing haul"
).split()
TAGS = ("#travel #food #ootd #fitness #love #instagood #photooftheday #beauty #style #nature #happy #cute "
        "#fashion #photography #art #summer #reels #explore #skincare #makeup #coffee #foodie #running").split()
EMOJI = ("✨", "☕", "🌿", "🔥", "💛", "📍", "🙌")
BRANDS = ("acme", "glowlab", "trailco", "bakehaus", "lumiere")


def caption_of(rng: random.Random) -> tuple[str, bool]:
    """(caption, paid-partnership label) for one post of the mix."""
    length = min(2_000, int(rng.lognormvariate(4.95, 0.8)))  # median ~140 characters
    words: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(WORDS) if rng.random() > 0.06 else rng.choice(EMOJI)
        words.append(word)
        size += len(word) + 1
    body = " ".join(words)
    tags = " ".join(rng.sample(TAGS, min(len(TAGS), int(rng.expovariate(1 / 6)))))
    brand = rng.choice(BRANDS)
    paid = False
    kind = rng.random()
    if kind < 0.66:  # not sponsored (some mention a friend)
        text = f"{body} @{rng.choice(('sam', 'alex', 'mum'))}" if rng.random() < 0.2 else body
    elif kind < 0.71:
        text = f"#ad {body} @{brand}"
    elif kind < 0.74:
        text = f"Ad: {body} @{brand}"
    elif kind < 0.77:
        text, tags = f"{body} @{brand}", f"{tags} #ad"
    elif kind < 0.80:
        text = f"{body} @{brand} {body} #ad"
    elif kind < 0.83:
        text = f"{body} @{brand} {rng.choice(('#spon', '#collab', '#sp', '#partner'))}"
    elif kind < 0.86:
        text = f"PR package from @{brand} {body} #gifted"
    elif kind < 0.88:
        text = f"{rng.choice(('Werbung:', 'ANZEIGE |', 'PUBLICITÉ —', '#publi'))} {body} @{brand}"
    elif kind < 0.93:
        text = f"{body} use code {brand.upper()}{rng.randint(10, 30)} for {rng.randint(10, 30)}% off @{brand}"
    elif kind < 0.96:
        text = f"{body} https://amzn.to/{rng.randrange(16**6):06x}"
    else:
        text, paid = body, True
    return (f"{text} {tags}" if tags else text), paid


def best_rate(fn, items, rounds: int) -> tuple[float, float]:
    """(items per wall-clock second, items per CPU second of this process), best round of each.
    On a shared machine the wall clock also counts the time other work held the core; the CPU
    time is what one core spent on this, which is the figure the target speaks of."""
    wall = cpu = 0.0
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(items)
        wall = max(wall, len(items) / (time.perf_counter() - start))
        cpu = max(cpu, len(items) / max(time.process_time() - start_cpu, 1e-9))
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best is reported")
    parser.add_argument("--jurisdictions", default="US,UK,DE")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rng = random.Random(args.seed)
    raw = [caption_of(rng) for _ in range(args.posts)]
    posts = [PostText(caption=c, paid_partnership=p, platform="instagram") for c, p in raw]
    lengths = sorted(len(c) for c, _ in raw)
    print(f"{len(posts):,} posts; caption length median {lengths[len(lengths) // 2]:,}, "
          f"p95 {lengths[int(len(lengths) * 0.95)]:,}, max {lengths[-1]:,} characters; one core")

    rulebook = default_rulebook()
    jurisdictions = tuple(args.jurisdictions.split(","))
    grader = Grader(rulebook, jurisdictions, sponsors=("Lumiere",))
    everywhere = Grader(rulebook, tuple(rulebook.sets), sponsors=("Lumiere",))
    naive = re.compile(r"#ad\b", re.IGNORECASE)

    def grade_all(items, g=grader):
        for post in items:
            g.grade(post)

    def grade_everywhere(items):
        grade_all(items, everywhere)

    def naive_all(items):
        for post in items:
            naive.search(post.caption)

    def build_all(items):
        for caption, paid in items:
            PostText(caption=caption, paid_partnership=paid, platform="instagram")

    grade_all(posts[:1_000])  # warm: the scanner compiles once per rulebook
    rate = best_rate(grade_all, posts, args.rounds)
    rate_all = best_rate(grade_everywhere, posts, args.rounds)
    rate_naive = best_rate(naive_all, posts, args.rounds)
    rate_build = best_rate(build_all, raw, args.rounds)

    assessments = [grader.grade(p) for p in posts]
    sponsored = [a for a in assessments if a.sponsored]
    verdicts = Counter(v.verdict for a in sponsored for v in a.verdicts)
    rules = Counter(v.rule_id for a in sponsored for v in a.verdicts)
    print(f"sponsored: {len(sponsored):,} of {len(posts):,} ({len(sponsored) / len(posts):.1%}); verdicts "
          + ", ".join(f"{k} {n:,}" for k, n in sorted(verdicts.items())))
    print("deciding rules: " + ", ".join(f"{r} {n:,}" for r, n in rules.most_common(8)))
    print(f"{'':<44}{'wall clock':>14}{'CPU time':>14}  (posts/s)")
    print(f"{'baseline, one re.search(#ad) per caption':<44}{rate_naive[0]:>14,.0f}{rate_naive[1]:>14,.0f}")
    print(f"{'baseline, building PostText alone':<44}{rate_build[0]:>14,.0f}{rate_build[1]:>14,.0f}")
    print(f"{'graded, ' + '+'.join(jurisdictions):<44}{rate[0]:>14,.0f}{rate[1]:>14,.0f}")
    print(f"{f'graded, all {len(rulebook.sets)} jurisdictions':<44}{rate_all[0]:>14,.0f}{rate_all[1]:>14,.0f}")
    print(f"grading costs {rate_naive[1] / rate[1]:.0f}x the naive search ({1e6 / rate[1]:.1f} µs of CPU a post); "
          f"target >= {TARGET:,} posts/s on one core (CPU time): {'met' if rate[1] >= TARGET else 'NOT met'}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    note = f"{len(posts):,} posts, best of {args.rounds} rounds, one core"
    naive_name = "one re.search(#ad) per caption"
    # The target is read on CPU time (the wall clock also counts the time other work held the core).
    record(f"disclosure grading, {'+'.join(jurisdictions)}, CPU time", rate[1], "posts/s", target=TARGET,
           better="higher", baseline=naive_name, baseline_value=rate_naive[1], note=note)
    record(f"disclosure grading, {'+'.join(jurisdictions)}, wall clock", rate[0], "posts/s", better="higher",
           baseline=naive_name, baseline_value=rate_naive[0], note=note)
    record(f"disclosure grading, all {len(rulebook.sets)} jurisdictions, CPU time", rate_all[1], "posts/s",
           better="higher", baseline=naive_name, baseline_value=rate_naive[1], note=note)


if __name__ == "__main__":
    main()
