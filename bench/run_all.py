"""Every benchmark of the project in one run: one table, and the same as JSON with the machine.

`./limelight bench` (or `.venv/bin/python bench/run_all.py`) runs each script of SUITE in turn,
each with LIMELIGHT_BENCH_RECORD set to a file its `harness.record(...)` calls append to, keeps each
script's own output in a log beside the JSON, and prints one table: figure, value, target (met or
not), the baseline measured in the same run and the ratio to it. The JSON (default
`.limelight/bench-results/<UTC time>.json`) holds the same figures, the machine's description and
load, the commit and each script's exit status and time, so runs can be compared over time.

`--quick` (the default) runs each script at a size that finishes in minutes (about 25 minutes in
all on the development VM); `--full` at the issues' scale (a 1,000,000-creator index, a 1,000,000-
entry ledger: hours the first time, the databases are kept for the next). `--only a,b` runs some.
Run on purpose, never from pytest; nothing here is asserted: a missed target is printed as such.
Ports: the HTTP benches get port bases from 28000 up (their Kafka at base + 1092), away from the
dev (8000) and test (18000) platforms and below the kernel's ephemeral ports (32768 up), which a
client's outgoing connection may hold at the moment a bench binds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


@dataclass(frozen=True)
class Bench:
    name: str  # the script, bench/<name>.py
    quick: tuple[str, ...]
    full: tuple[str, ...]
    timeout: int  # seconds, quick; full runs get 8 times as long
    needs: tuple[str, ...] = ()  # programs it cannot run without


SUITE: tuple[Bench, ...] = (
    Bench("outbox_pipeline", ("--events", "5000"), (), 600),
    Bench("tenancy", (), ("--rounds", "7", "--iterations", "1500"), 600),
    Bench("rate_limit", ("--port-base", "28000"), ("--port-base", "28000"), 600),
    Bench("http_read", ("--duration", "5", "--rounds", "2", "--port-base", "28200"), ("--port-base", "28200"), 900, ("wrk",)),
    Bench("gateway_overhead", ("--duration", "5", "--rounds", "2", "--port-base", "28100"), ("--port-base", "28100"), 900, ("wrk",)),
    Bench("gateway_webhooks", ("--duration", "5", "--rounds", "2", "--port-base", "28300"), ("--port-base", "28300"), 900, ("wrk",)),
    Bench("attribution_redirect", ("--duration", "5", "--rounds", "2", "--port-base", "28400"), ("--port-base", "28400"), 900,
          ("wrk",)),
    Bench("attribution_orders", ("--orders", "1000", "--warmup", "100", "--seconds", "5", "--port-base", "28500"),
          ("--port-base", "28500", "--timeout", "900"), 900),
    Bench("orders_floor", ("--duration", "5", "--timeout", "200", "--port-base", "28800"), ("--port-base", "28800"), 900,
          ("wrk",)),
    Bench("redirect_floor", ("--duration", "5", "--port-base", "28900"), ("--port-base", "28900"), 600, ("wrk",)),
    # Builds (or, with --keep, reuses) a 1,000,000-entry ledger in .limelight/bench-report.
    Bench("attribution_report", ("--keep", "--runs", "10"), ("--keep", "--runs", "40"), 3600),
    Bench("attribution_models", (), (), 600),
    Bench("attribution_comparison", (), (), 600),
    Bench("audit_engine", (), (), 600),
    Bench("audit_classifier", (), (), 600),
    Bench("audit_disclosure", (), (), 600),
    Bench("audit_brand_safety", (), (), 600),
    Bench("audit_pods", (), (), 600),
    Bench("audit_report", (), (), 600),
    Bench("embedding", (), (), 600),
    Bench("embedding_recall", ("--creators", "20000", "--queries", "50"), (), 900),
    Bench("discovery_ingest", ("--prefill", "5000", "--batches", "2", "--lines", "1000", "--single", "100", "--http",
                               "--port", "28600"),
          ("--prefill", "20000", "--batches", "4", "--lines", "5000", "--single", "500", "--http", "--port", "28600"), 1200),
    # Rebuilds its index whenever --creators changes: a full run after a quick one builds the
    # 1,000,000-creator index again (hours on 2 cores).
    Bench("discovery_search", ("--creators", "20000", "--queries", "50", "--warmup", "20", "--recall-queries", "10",
                               "--ingest-batches", "2", "--ingest-lines", "1000", "--port", "28700"),
          ("--creators", "1000000", "--port", "28700"), 2400),
)


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu or platform.processor(), "cores": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(), "python": platform.python_version(),
    }


def commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def met(figure: dict) -> bool | None:
    if figure["target"] is None or figure["value"] is None:
        return None
    return figure["value"] <= figure["target"] if figure["better"] == "lower" else figure["value"] >= figure["target"]


def ratio(figure: dict) -> float | None:
    if not figure.get("baseline_value") or figure["value"] is None:
        return None
    return figure["value"] / figure["baseline_value"]


def run(selected: list[Bench], full: bool, folder: Path) -> tuple[list[dict], list[dict]]:
    figures: list[dict] = []
    runs: list[dict] = []
    for bench in selected:
        missing = [program for program in bench.needs if not _which(program)]
        args = list(bench.full if full else bench.quick)
        log = folder / f"{bench.name}.log"
        entry = {"bench": bench.name, "args": args, "log": str(log.relative_to(ROOT)) if log.is_relative_to(ROOT) else str(log)}
        if missing:
            entry.update(status="skipped", reason=f"needs {', '.join(missing)} (apt-get install {' '.join(missing)})")
            runs.append(entry)
            print(f"-- {bench.name}: skipped, {entry['reason']}", file=sys.stderr, flush=True)
            continue
        record = folder / f"{bench.name}.jsonl"
        timeout = bench.timeout * (8 if full else 1)
        print(f"-- {bench.name} {' '.join(args)} (at most {timeout} s)", file=sys.stderr, flush=True)
        started = time.monotonic()
        with log.open("w") as out:
            try:
                code = subprocess.run([PYTHON, str(ROOT / "bench" / f"{bench.name}.py"), *args], cwd=ROOT, stdout=out,
                                      stderr=subprocess.STDOUT, timeout=timeout,
                                      env={**os.environ, "LIMELIGHT_BENCH_RECORD": str(record), "PYTHONUNBUFFERED": "1"}).returncode
            except subprocess.TimeoutExpired:
                code = None
        entry.update(status="ok" if code == 0 else "timeout" if code is None else f"exit {code}",
                     seconds=round(time.monotonic() - started, 1))
        runs.append(entry)
        got = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
        for figure in got:
            figure["met"] = met(figure)
            figure["ratio"] = ratio(figure)
        figures += got
        print(f"   {entry['status']} in {entry['seconds']} s, {len(got)} figures", file=sys.stderr, flush=True)
    return figures, runs


def _which(program: str) -> bool:
    from shutil import which

    return which(program) is not None


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def table(figures: list[dict], runs: list[dict]):
    from rich.table import Table

    out = Table(title="Limelight benchmarks")
    for column in ("bench", "figure", "value", "target", "met", "baseline (same run)", "ratio"):
        out.add_column(column, justify="right" if column in ("value", "target", "ratio") else "left")
    for f in figures:
        target = "-" if f["target"] is None else f"{'≤' if f['better'] == 'lower' else '≥'} {_number(f['target'])}"
        baseline = "-" if f["baseline"] is None else f"{f['baseline']}: {_number(f['baseline_value'])}"
        out.add_row(f["bench"], f["figure"], f"{_number(f['value'])} {f['unit']}", target,
                    {True: "yes", False: "NO", None: ""}[f["met"]], baseline,
                    "-" if f["ratio"] is None else f"{f['ratio']:.2f}x")
    for r in runs:
        if r["status"] != "ok":
            out.add_row(r["bench"], f"[{r['status']}] {r.get('reason', 'see ' + r['log'])}", "", "", "", "", "")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="each bench at a size that takes minutes (default)")
    size.add_argument("--full", action="store_true", help="the issues' scale (hours the first time)")
    parser.add_argument("--only", help="comma-separated bench names (bench/<name>.py)")
    parser.add_argument("--out", type=Path, help="the JSON file (default .limelight/bench-results/<UTC time>.json)")
    args = parser.parse_args(argv)
    selected = list(SUITE)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = sorted(set(names) - {b.name for b in SUITE})
        if unknown:
            parser.error(f"unknown bench(es): {', '.join(unknown)}; known: {', '.join(b.name for b in SUITE)}")
        selected = [b for b in SUITE if b.name in names]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or ROOT / ".limelight" / "bench-results" / f"{stamp}.json"
    folder = out.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    load_before = os.getloadavg()
    figures, runs = run(selected, args.full, folder)
    result = {
        "started_at": started.isoformat(), "finished_at": datetime.now(timezone.utc).isoformat(),
        "mode": "full" if args.full else "quick", "commit": commit(),
        "machine": {**machine(), "load_average_start": load_before, "load_average_end": os.getloadavg()},
        "runs": runs, "figures": figures,
    }
    out.write_text(json.dumps(result, indent=1) + "\n")
    from rich.console import Console

    Console(width=160).print(table(figures, runs))
    print(f"JSON: {out}  (logs in {folder})")
    return 0 if all(r["status"] in ("ok", "skipped") for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
