"""Audit report render time, p50/p95, in process, beside the JSON of the same audits.

N stored audits as the issue sizes a creator (a 1,000-follower sample, 50 posts, a 365-point
follower series with two spikes, 2,000 comments, a pod, a disclosure table of 12 posts), each
from its own seed, computed by the engine and serialised as the runner stores them
(tests/audit/report_audit.py). Timed per audit: `render_html` (three matplotlib SVG charts and
the Jinja2 page), the endpoint's CPU work; and, as the baseline measured in the same run, what
`GET /audits/{id}` does with the same audit (AuditRead validated and dumped to JSON). Then where
the report's time goes: each chart alone and the page without charts. The database read and the
network are the same for both and left out (bench/http_read.py measures them).

`python bench/audit_report.py [--audits 60] [--rounds 3]`. Target: p95 < 300 ms on one core.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import record  # noqa: E402
from services.audit.audit.schemas import AuditRead  # noqa: E402
from services.audit.report import charts  # noqa: E402
from services.audit.report.render import render_html  # noqa: E402
from services.audit.report.view import CreatorHeader  # noqa: E402
from tests.audit.report_audit import spiked_inputs, stored_audit  # noqa: E402
from tests.audit.test_report_render import disclosure_signal  # noqa: E402

SIZES = {"sample": 1_000, "posts": 50, "points": 365, "comments": 2_000, "bots": 150}
TARGET_MS = 300.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def timed(fn) -> tuple[float, float]:
    """(wall ms, CPU ms of this thread): on a shared machine the CPU time is what the render
    itself costs, the wall time what a caller would have waited."""
    wall, cpu = time.perf_counter(), time.thread_time()
    fn()
    return (time.perf_counter() - wall) * 1_000, (time.thread_time() - cpu) * 1_000


def line(label: str, ms: list[float]) -> str:
    return f"  {label:<40} p50 {percentile(ms, 0.5):7.2f} ms  p95 {percentile(ms, 0.95):7.2f} ms  max {max(ms):7.2f} ms"


def disclosure(n: int) -> dict:
    signal = disclosure_signal()
    posts = [dict(signal["details"]["posts"][i % 2], external_id=f"p{i}") for i in range(n)]
    return {**signal, "details": {**signal["details"], "posts": posts, "sponsored_posts": n}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audits", type=int, default=60, help="distinct audits rendered per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the same audits; all are counted")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"audits: {args.audits} x {args.rounds} rounds; each {SIZES['sample']:,} followers sampled, {SIZES['posts']} "
          f"posts, {SIZES['points']} series points, {SIZES['comments']:,} comments, 12 disclosure rows; one core")

    started = time.perf_counter()
    audits = [
        stored_audit(spiked_inputs(seed=seed, **SIZES), disclosure=disclosure(12)) for seed in range(1, args.audits + 1)
    ]
    print(f"(building the stored audits, untimed: {time.perf_counter() - started:.1f} s)")
    creator = CreatorHeader("instagram", "maya.bakes", "Maya Bakes", 50_000)

    start = time.perf_counter()
    first = render_html(audits[0], creator=creator)
    cold = (time.perf_counter() - start) * 1_000
    print(f"first render in this process (font cache, template compile): {cold:.1f} ms; page {len(first):,} bytes")

    def details(audit: dict, name: str) -> dict:
        return next(s for s in audit["signals"] if s["name"] == name)["details"]

    def without_charts(audit: dict) -> dict:
        return {**audit, "signals": [s for s in audit["signals"]
                                     if s["name"] not in ("growth", "audience_quality", "engagement_rate")]}

    measures = {
        "report HTML (render_html)": lambda a: render_html(a, creator=creator),
        "baseline: the audit's JSON (AuditRead)": lambda a: AuditRead.model_validate(a).model_dump_json(),
        "growth chart": lambda a: charts.growth_chart(details(a, "growth")["series"], details(a, "growth")["anomalies"]),
        "audience chart": lambda a: charts.audience_chart(details(a, "audience_quality")["types"]),
        "engagement chart": lambda a: charts.engagement_chart(details(a, "engagement_rate")),
        "view + template, charts excluded": lambda a: render_html(without_charts(a), creator=creator),
    }
    wall: dict[str, list[float]] = {k: [] for k in measures}
    cpu: dict[str, list[float]] = {k: [] for k in measures}
    for _ in range(args.rounds):
        for audit in audits:
            # Every measure of one audit back to back, so all see the same moments of a shared machine.
            for label, fn in measures.items():
                w, c = timed(lambda: fn(audit))
                wall[label].append(w)
                cpu[label].append(c)
    report, baseline = wall["report HTML (render_html)"], wall["baseline: the audit's JSON (AuditRead)"]
    p95 = percentile(report, 0.95)
    print("render times (wall | CPU of the rendering thread):")
    for label in measures:
        print(line(label, wall[label]) + "  |  CPU p50 {:7.2f} p95 {:7.2f} ms".format(
            percentile(cpu[label], 0.5), percentile(cpu[label], 0.95)))
    print(f"the report costs {statistics.median(report) / statistics.median(baseline):,.0f}x the JSON at the median; "
          f"target p95 < {TARGET_MS:.0f} ms: {'met' if p95 < TARGET_MS else 'NOT met'} (wall p95 {p95:.1f} ms, "
          f"CPU p95 {percentile(cpu['report HTML (render_html)'], 0.95):.1f} ms)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    note = f"{args.audits} audits x {args.rounds} rounds, one core"
    json_name, json_cpu = "the audit's JSON (AuditRead)", cpu["baseline: the audit's JSON (AuditRead)"]
    report_cpu = cpu["report HTML (render_html)"]
    record("audit report render p95, wall", p95, "ms", target=TARGET_MS, baseline=json_name,
           baseline_value=percentile(baseline, 0.95), note=note)
    record("audit report render p50, wall", percentile(report, 0.5), "ms", baseline=json_name,
           baseline_value=percentile(baseline, 0.5), note=note)
    record("audit report render p95, CPU", percentile(report_cpu, 0.95), "ms", baseline=json_name,
           baseline_value=percentile(json_cpu, 0.95), note=note)
    record("audit report first render in a process", cold, "ms", note=note + "; font cache, template compile")


if __name__ == "__main__":
    main()
