"""What the HTTP benchmarks share: a platform of their own on a port base, wrk runs and their
figures, process CPU, and the signed Shopify order the partner-webhook benches send. Imported by
bench/gateway_overhead.py, attribution_redirect.py, gateway_webhooks.py and attribution_orders.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from runtime import procs
from runtime.config import ROOT, RuntimeSettings

# A Shopify orders/create body in the shape of tests/attribution/data/shopify/orders-create-usd-code-and-click.json:
# two lines, a code, a click id in the landing URL, tax and shipping. Copy it before changing it.
SHOPIFY_ORDER = {
    "id": 0, "name": "#0", "email": "buyer@example.com", "created_at": "", "updated_at": "", "currency": "USD",
    "financial_status": "paid", "taxes_included": False,
    "landing_site": "/products/black-tee?utm_source=instagram&ll_click=c_bench", "referring_site": "https://l.instagram.com/",
    "note_attributes": [], "discount_codes": [{"code": "MAYA15", "amount": "10.50", "type": "percentage"}],
    "subtotal_price": "59.50", "total_discounts": "10.50", "total_tax": "4.76", "total_price": "69.26",
    "total_shipping_price_set": {"shop_money": {"amount": "5.00", "currency_code": "USD"}},
    "customer": {"id": 7200000000001, "email": "buyer@example.com"},
    "line_items": [
        {"id": 1, "product_id": 81, "variant_id": 44, "sku": "TEE-BLK-M", "title": "Black tee", "quantity": 2, "price": "25.00",
         "discount_allocations": [{"amount": "7.50"}], "tax_lines": [{"price": "3.40", "rate": 0.08, "title": "State tax"}]},
        {"id": 2, "product_id": 82, "variant_id": 45, "sku": "CAP-RED", "title": "Red cap", "quantity": 1, "price": "20.00",
         "discount_allocations": [{"amount": "3.00"}], "tax_lines": [{"price": "1.36", "rate": 0.08, "title": "State tax"}]},
    ],
    "refunds": [],
}


def record(figure: str, value: float | None, unit: str, *, target: float | None = None, better: str = "lower",
           baseline: str | None = None, baseline_value: float | None = None, note: str | None = None) -> None:
    """One figure for `limelight bench` (bench/run_all.py), which sets LIMELIGHT_BENCH_RECORD to a
    file and gathers what every bench appended to it; a no-op when a bench runs on its own.

    `target`: the issue's target in the same unit, met when value <= target (`better="lower"`) or
    >= target (`"higher"`); `baseline` names the baseline measured in the same run and
    `baseline_value` is its figure in the same unit, so the ratio can be printed beside it."""
    path = os.environ.get("LIMELIGHT_BENCH_RECORD")
    if not path:
        return
    if better not in ("lower", "higher"):
        raise ValueError("better is 'lower' or 'higher'")
    line = {"bench": Path(sys.argv[0]).stem, "figure": figure, "value": value, "unit": unit, "target": target,
            "better": better, "baseline": baseline, "baseline_value": baseline_value, "note": note}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def say(message: str) -> None:
    """Progress, on stderr (the figures go to stdout)."""
    print(message, file=sys.stderr, flush=True)


def shopify_hmac(secret: str, body: bytes) -> str:
    """`X-Shopify-Hmac-Sha256`: base64 of the body's HMAC-SHA256 under the app's secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def bench_settings(state: str, base: int) -> RuntimeSettings:
    """A platform of the bench's own in .limelight/<state>, on ports from `base` (laid out as the
    test suite's; a bare baseline app, if any, on base + 10), its Kafka, PostgreSQL, run and log
    folders emptied first — refused while those ports are in use (another run of a bench still
    going owns that state)."""
    if any(procs.port_in_use(port) for port in (base, base + 10, base + 1092)):
        raise SystemExit(f"ports from {base} are in use (another run of this bench?); choose another --port-base")
    settings = RuntimeSettings(
        state_dir=ROOT / ".limelight" / state,
        kafka_port=base + 1092, kafka_controller_port=base + 1093,
        gateway_port=base, discovery_port=base + 1, audit_port=base + 2, attribution_port=base + 3,
        gateway_operator_port=base + 4,
    )
    for folder in ("kafka", "postgres", "run", "logs"):
        shutil.rmtree(settings.state_dir / folder, ignore_errors=True)
    return settings


def wait_logged(settings: RuntimeSettings, service: str, message: str, timeout: float = 120) -> float:
    """Wait until `service`'s JSON log (or a rotated part of it) has a record whose message is
    `message`; the seconds waited. A bench that measures a steady state waits for the one-off work
    a service does once started: attribution builds its data-centre ranges in a thread (about a
    second of CPU, shared/clicks/datacentre.py), which an order bench started at once measured as
    part of its orders."""
    started, needle = time.monotonic(), f'"message": {json.dumps(message)}'
    while time.monotonic() - started < timeout:
        for path in settings.logs_dir.glob(f"{service}.log*"):
            if any(needle in line for line in path.read_text(errors="replace").splitlines()):
                return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit(f"{service} did not log {message!r} within {timeout:.0f} s; see {settings.logs_dir}")


@dataclass
class Run:
    """One wrk run: requests/s, requests done, bad answers and socket errors, latency percentiles."""

    rate: float
    done: int
    bad: int
    p50_ms: float
    p99_ms: float
    gateway_cpu_ms: float = 0.0


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(out: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    return float(value) * _UNITS[unit]


def wrk(argv: list[str], timeout: float, *, count_statuses: bool = True) -> Run:
    """Run wrk (`argv` with `--latency`) and read its figures. `count_statuses=False`: answers of
    400 and above are expected (a 404 side) and only socket errors are bad. wrk counts only
    statuses above 399 as bad, so a side meant to answer 302 that answers 200 must be checked
    once beforehand by the caller."""
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=timeout).stdout
    statuses = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad = (int(statuses.group(1)) if statuses and count_statuses else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return Run(
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        done=int(re.search(r"(\d+) requests in", out).group(1)),
        bad=bad,
        p50_ms=_latency(out, "50"),
        p99_ms=_latency(out, "99"),
    )


def postmaster_pid(pgdata: Path) -> int:
    """The pid of the PostgreSQL server whose data directory is `pgdata`."""
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


class PostgresCpu:
    """PostgreSQL's CPU seconds over a span: the postmaster and every backend, those started during
    the span (connections, autovacuum workers) counted in full, those that ended during it counted
    up to their last reading (never below what they had at the start). Read a backend before its
    connection closes: one that ended between two readings is not counted."""

    def __init__(self, postmaster: int | None):
        self.postmaster = postmaster
        self.start = self._read()

    def _read(self) -> dict[int, float]:
        if self.postmaster is None:
            return {}
        main = psutil.Process(self.postmaster)
        return {process.pid: cpu_seconds(process) for process in (main, *main.children(recursive=True))}

    def spent(self) -> float:
        return sum(max(0.0, value - self.start.get(pid, 0.0)) for pid, value in self._read().items())


def cpu_seconds(*processes: psutil.Process | None) -> float:
    """User + system CPU seconds of the processes so far (None: not running, 0)."""
    total = 0.0
    for process in processes:
        if process is None:
            continue
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # a PostgreSQL backend that ended meanwhile
            continue
        total += times.user + times.system
    return total
