"""Audits per second of the pure audit engine (services.audit.engine.audit.compute) on one core.

One creator as the issue sizes it: a 1,000-follower sample, 50 posts, a 90-point follower series
and 2,000 comments (tests/audit/signal_inputs.clean_inputs, seeded). Printed beside baselines of
the same run: the time to build those inputs, and each signal's share of an audit (the six signal
functions called one after another in one loop, each timed). The load average is printed before and after,
because the machine is shared: compare within a run, not across runs.

The follower model is services.audit.engine.classifier.default_model() when that module exists,
else the rules-only test double (tests/audit/follower_double.py); the output says which.

`python bench/audit_engine.py [--audits 300] [--rounds 3]`. Target: >= 50 audits/s on one core.
"""

import os

# One core: numerical libraries must not spread over the others (set before numpy loads).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import importlib
import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import record  # noqa: E402
from services.audit.engine.audit import compute  # noqa: E402
from services.audit.engine.signals.audience import audience_signal  # noqa: E402
from services.audit.engine.signals.comments import comments_signal  # noqa: E402
from services.audit.engine.signals.engagement import engagement_signal  # noqa: E402
from services.audit.engine.signals.growth import growth_signal  # noqa: E402
from services.audit.engine.signals.likes_comments import likes_comments_signal  # noqa: E402
from services.audit.engine.signals.pods import pod_signal  # noqa: E402
from tests.audit.follower_double import RulesFollowerModel  # noqa: E402
from tests.audit.signal_inputs import clean_inputs  # noqa: E402

SIZES = {"sample": 1_000, "posts": 50, "points": 90, "comments": 2_000}


def follower_model():
    if importlib.util.find_spec("services.audit.engine.classifier") is not None:
        classifier = importlib.import_module("services.audit.engine.classifier")
        if not hasattr(classifier, "default_model"):
            classifier = importlib.import_module("services.audit.engine.classifier.model")
        return classifier.default_model(), "services.audit.engine.classifier.default_model()"
    return RulesFollowerModel(), "test double tests/audit/follower_double.RulesFollowerModel (no classifier module)"


def per_second(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audits", type=int, default=300, help="audits per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best is reported")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    model, which = follower_model()
    print(f"follower model: {which} (version {model.version})")
    print(f"creator: {SIZES['sample']:,} followers sampled, {SIZES['posts']} posts, {SIZES['points']} series points, "
          f"{SIZES['comments']:,} comments; one core")

    inputs = clean_inputs(**SIZES)
    for _ in range(5):
        compute(inputs, model)
    build = max(per_second(lambda: clean_inputs(**SIZES), max(10, args.audits // 10)) for _ in range(args.rounds))
    audits = max(per_second(lambda: compute(inputs, model), args.audits) for _ in range(args.rounds))

    parts = {
        "audience_quality (incl. the model)": lambda: audience_signal(inputs.followers, model),
        "engagement_rate": lambda: engagement_signal(inputs.profile, inputs.posts, inputs.series),
        "likes_comments": lambda: likes_comments_signal(inputs.posts),
        "growth": lambda: growth_signal(inputs.series, inputs.posts, inputs.profile.handle),
        "comments": lambda: comments_signal(inputs.comments, inputs.texts_elsewhere),
        "pods": lambda: pod_signal(inputs.profile.creator_id, inputs.pods),
    }
    # The signals one after another in one loop, each timed, so their shares come from the same
    # moments of a shared machine; then compute() alone.
    spent = dict.fromkeys(parts, 0.0)
    for _ in range(args.audits):
        for name, fn in parts.items():
            start = time.perf_counter()
            fn()
            spent[name] += time.perf_counter() - start
    signals_ms = sum(spent.values()) / args.audits * 1_000
    audit_ms = 1_000.0 / audits
    print(f"baseline, building the inputs alone: {build:,.1f} creators/s ({1_000.0 / build:.2f} ms each)")
    print(f"compute: {audits:,.1f} audits/s ({audit_ms:.2f} ms per audit; target >= 50 audits/s: "
          f"{'met' if audits >= 50 else 'NOT met'})")
    print(f"the six signals called one by one: {signals_ms:.2f} ms per audit; their shares:")
    for name, seconds in spent.items():
        ms = seconds / args.audits * 1_000
        print(f"  {name:<36} {ms:7.3f} ms  {ms / signals_ms * 100:5.1f} %")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    note = f"best of {args.rounds} rounds x {args.audits} audits, one core; {which}"
    record("audits computed", audits, "audits/s", target=50, better="higher", baseline="building the inputs alone",
           baseline_value=build, note=note)
    record("six signals called one by one, per audit", signals_ms, "ms", note=note)
    record("comments signal, per audit", spent["comments"] / args.audits * 1_000, "ms", note=note)


if __name__ == "__main__":
    main()
