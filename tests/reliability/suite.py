"""The reliability suite: `./limelight reliability` (docs/guide/reliability.md).

On a platform of its own (.limelight/reliability, ports from --port-base, loopback only), under
a steady load of signed Shopify orders, clicks and searches through the gateway:

1. kill -9 in turn each service, the Kafka broker and PostgreSQL; the services come back through
   the supervisor, the broker and the database are started again after `--down` seconds;
2. afterwards: no acknowledged order lost, none counted twice, the ledger and the campaign report
   exact against amounts computed here, no acknowledged click lost, every consumer group caught
   up, and not one 500 from the gateway (a dependency down is a 503);
3. every webhook of a set of orders, updates, refunds and cancellations delivered three times in
   shuffled order to one workspace and once in order to another: identical ledgers;
4. poison: partner payloads attribution cannot read go to the dead-letter topic, are counted,
   fixed by hand and replayed with `limelight dlq replay --value-file`, then credited;
5. schemathesis over every gateway route with valid credentials, and the cross-tenant matrix.

One table at the end; the JSON beside it in .limelight/reliability-results/. Exit 1 when any
guarantee failed.
"""

import argparse
import asyncio
import json
import os
import platform as host
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from runtime import admin  # noqa: E402
from runtime.keys import installation_keys  # noqa: E402
from runtime.platform import Platform  # noqa: E402
from runtime.seed.api import Api  # noqa: E402
from shared.clicks.token import click_uuid  # noqa: E402
from shared.clicks.visitor import VisitorHasher  # noqa: E402
from tests.reliability.faults import TARGETS, Faults  # noqa: E402
from tests.reliability.traffic import Load  # noqa: E402

from tests.reliability.checks import caught_up, ledger_of, recorded_clicks, report_of, server_errors  # noqa: E402
from tests.reliability.common import (  # noqa: E402
    CLICKS, RESULTS, SUITE_ENV, WEBHOOK_DLQ, Row, make_brand, say, suite_settings,
)
from tests.reliability.scenarios import (  # noqa: E402
    cross_tenant, delivery_of, entry_shapes, fault_phases, fix_and_replay, follow_up_set, parked_for, poison_set,
    schemathesis, send_all, snapshot, undecodable,
)

# -- the run -----------------------------------------------------------------------------------------
async def run(args) -> int:
    settings = suite_settings(args.port_base, args.state)
    plat = Platform(settings, say=lambda m: say(f"[dim]{m}[/dim]"))
    rows: list[Row] = []
    facts: list[str] = []
    started = time.monotonic()
    try:
        say(f"Reliability suite: platform in {settings.state_dir}, gateway {settings.url('gateway')}")
        await asyncio.to_thread(plat.start_infrastructure)
        await asyncio.to_thread(plat.supervise, SUITE_ENV)
        gateway = settings.url("gateway")
        operator_key = (await admin.new_tenant(admin.gateway_database_url(settings), "reliability operator", operator=True)).key
        operator = Api(gateway, operator_key)
        try:
            main, creators = await make_brand(operator, gateway, "Load brand", None, links=True)
            once, _ = await make_brand(operator, gateway, "Once brand", creators, links=False)
            thrice, _ = await make_brand(operator, gateway, "Thrice brand", creators, links=False)
        finally:
            await operator.close()
        faults = Faults(plat)
        load = Load(gateway, main.key, main.shop, main.codes, main.slugs, first_order=1_000_000,
                    rates={"webhook": args.rate, "click": args.rate, "search": max(1.0, args.rate / 2)})

        # 1. Faults under load.
        say(f"[bold]steady load[/bold]: {args.rate:g} orders/s, {args.rate:g} clicks/s, {max(1.0, args.rate / 2):g} searches/s")
        load.start()
        await asyncio.sleep(args.settle)
        targets = [t for t in TARGETS if not args.only or t in args.only]
        recovery = await fault_phases(faults, load, targets, down=args.down, settle=args.settle)
        load.phase = "after the faults (partner retries)"
        await load.stop()
        await load.redeliver_unacknowledged(timeout=180)

        # 2. Poison on the partner path, and records nobody can read.
        say("[bold]poison[/bold]: unreadable partner payloads and undecodable records")
        poison = poison_set(main, 800_000, args.poison)
        p_sent, p_acked, _ = await send_all(gateway, main.shop, poison, concurrency=4)
        await undecodable(settings.kafka_bootstrap, 2)
        parked, garbage = await parked_for(settings.kafka_bootstrap, {d for _, _, d in poison}, 2, timeout=120)
        replayed = sum(await asyncio.gather(*(asyncio.to_thread(fix_and_replay, settings, r) for r in parked)))

        # 3. Every webhook three times, shuffled, against once and in order.
        say("[bold]triple delivery[/bold]: every webhook three times in shuffled order")
        deliveries, expected_net = follow_up_set(once, 900_000, args.orders)
        triple_deliveries, _ = follow_up_set(thrice, 900_000, args.orders)
        once_sent, once_acked, _ = await send_all(gateway, once.shop, deliveries, concurrency=1)
        shuffled = triple_deliveries * 3
        random.Random(args.seed).shuffle(shuffled)
        t_sent, t_acked, t_statuses = await send_all(gateway, thrice.shop, shuffled, concurrency=8)

        # 4. Drain, then count.
        say("[bold]draining[/bold]: waiting for every consumer group to catch up")
        up_to_date, lag, drained_in = await caught_up(settings.kafka_bootstrap, timeout=600)
        await asyncio.sleep(3)  # the report's totals worker and the ledger settle on their intervals
        orders, counts, entries = await ledger_of(gateway, main)
        report = await report_of(gateway, main)
        clicks = await recorded_clicks(settings.kafka_bootstrap)

        # Load orders: lost and duplicated per phase; the ledger against amounts computed here.
        by_phase: dict[str, list[int]] = defaultdict(list)
        for number, phase in load.acknowledged_orders.items():
            by_phase[phase].append(number)
        clicks_by_phase: dict[str, list[str]] = defaultdict(list)
        token_key = VisitorHasher(installation_keys(settings.state_dir).attribution_hash_key.encode()).token_key
        for carried, phase in load.acknowledged_clicks.items():
            clicks_by_phase[phase].append(str(click_uuid(token_key, carried)))
        present_load = {int(k) for k in counts if k.isdigit() and 1_000_000 <= int(k) < 2_000_000}
        expected_commission = 0
        wrong_amounts = 0
        for number in present_load:
            want = load.orders[number].commission if number in load.orders else None
            got = [e for e in entries.get(str(number), []) if e["kind"] == "commission"]
            if want is None or len(got) != 1 or got[0]["amount"] != want:
                wrong_amounts += 1
            expected_commission += want or 0
        expected_commission += 315 * len(poison)  # 10 % of each fixed 31.50
        ledger_total = sum(e["amount"] for es in entries.values() for e in es)
        money = next((m for m in report["money"] if m["currency"] == "USD"), {"orders": 0, "net_commission": 0})
        poison_credited = sum(1 for _, p, _ in poison if counts.get(str(p["id"])) == 1 and sum(
            e["amount"] for e in entries.get(str(p["id"]), [])) == 315)

        for phase, tally in load.tallies.items():
            acked = by_phase.get(phase, [])
            lost_orders = sum(1 for n in acked if counts.get(str(n), 0) == 0)
            dup_orders = sum(1 for n in acked if counts.get(str(n), 0) > 1 or len(
                [e for e in entries.get(str(n), []) if e["kind"] == "commission"]) > 1)
            phase_clicks = clicks_by_phase.get(phase, [])
            lost_clicks = sum(1 for c in phase_clicks if clicks[c] == 0)
            dup_clicks = sum(1 for c in phase_clicks if clicks[c] > 1)
            kinds = ", ".join(f"{k} {tally.acknowledged[k]}/{tally.sent[k]}" for k in ("webhook", "click", "search"))
            unanswered = sum(tally.unanswered.values())
            rows.append(Row(
                phase, faults=1 if phase.startswith("kill") else 0, sent=sum(tally.sent.values()),
                acknowledged=sum(tally.acknowledged.values()), lost=lost_orders + lost_clicks, duplicated=dup_orders + dup_clicks,
                errors_5xx=tally.count(500, 599), errors_500=tally.count(500, 500), recovery=recovery.get(phase),
                note=f"{kinds}" + (f"; {unanswered} unanswered (connection refused)" if unanswered else "")
                + (f"; 5xx: {dict(sorted(server_errors(tally).items()))}" if tally.count(500, 599) else ""),
                passed=lost_orders + lost_clicks + dup_orders + dup_clicks == 0 and tally.count(500, 500) == 0
                and recovery.get(phase, 0) != float("inf"),
            ))
        unacked = [n for n in load.orders if n not in load.acknowledged_orders]

        # Triple delivery: the same end state, order by order.
        once_orders, _, once_entries = await ledger_of(gateway, once)
        thrice_orders, thrice_counts, thrice_entries = await ledger_of(gateway, thrice)
        a, b = snapshot(once_orders, once_entries), snapshot(thrice_orders, thrice_entries)
        differing = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        once_shapes, thrice_shapes = entry_shapes(once_entries), entry_shapes(thrice_entries)
        split = sum(1 for k in set(once_shapes) | set(thrice_shapes) if once_shapes.get(k) != thrice_shapes.get(k))
        # Not merely the same: right. Each order's net commission against the amount computed here.
        net = {k: sum(e["amount"] for e in es) for k, es in thrice_entries.items()}
        wrong_net = sorted(k for k, want in expected_net.items() if net.get(k, 0) != want)
        rows.append(Row(
            "every webhook ×3, shuffled", sent=t_sent, acknowledged=t_acked,
            lost=len(set(a) - set(b)), duplicated=sum(1 for n in thrice_counts.values() if n > 1),
            errors_5xx=sum(n for s, n in t_statuses.items() if s and s >= 500), errors_500=t_statuses.get(500, 0),
            note=f"{len(triple_deliveries)} webhooks of {args.orders} orders; ledgers identical to one in-order delivery: "
                 f"{'yes' if not differing and a else 'NO: ' + ', '.join(differing[:5])}; net commission "
                 f"{sum(net.values())} against {sum(expected_net.values())} computed here"
                 + (f" (wrong: {', '.join(wrong_net[:5])})" if wrong_net else "")
                 + (f"; {split} orders' clawbacks split differently (refund and cancellation crossed)" if split else "")
                 + (f"; first difference, order {differing[0]}: once {a.get(differing[0])}, ×3 shuffled {b.get(differing[0])}"
                    if differing else ""),
            passed=not differing and bool(a) and not wrong_net and once_acked == len(deliveries)))

        dlq_now = Counter(delivery_of(r) for r in parked)
        rows.append(Row(
            "poison → dead letters → fixed, replayed", sent=p_sent, acknowledged=p_acked, lost=args.poison - poison_credited,
            duplicated=sum(1 for n in dlq_now.values() if n > 1), note=(
                f"{len(dlq_now)}/{args.poison} unreadable payloads dead-lettered on {WEBHOOK_DLQ}, {replayed} fixed and replayed "
                f"with `limelight dlq replay --value-file`, {poison_credited} credited; {garbage}/2 undecodable records parked"),
            passed=len(dlq_now) == args.poison and replayed == args.poison and poison_credited == args.poison and garbage == 2))

        money_ok = ledger_total == expected_commission == money["net_commission"] and wrong_amounts == 0
        facts += [
            f"orders acknowledged {len(load.acknowledged_orders)} of {len(load.orders)} sent"
            + (f" ({len(unacked)} never acknowledged after retries)" if unacked else ""),
            f"orders in attribution {len(present_load)} (acknowledged or not: a delivery whose answer was lost is still applied once)",
            f"ledger: {ledger_total} minor units; computed here {expected_commission}; campaign report {money['net_commission']}"
            f" — {'exact' if money_ok else 'NOT EXACT'} ({wrong_amounts} orders with a wrong or missing commission entry)",
            f"clicks acknowledged {len(load.acknowledged_clicks)}; on {CLICKS} {len(clicks)} distinct click ids",
            f"consumer groups caught up: {'yes' if up_to_date else 'NO'} in {drained_in:.0f}s "
            f"({', '.join(f'{g} {n}' for g, n in sorted(lag.items()))})",
        ]
        all_ok = money_ok and up_to_date and not unacked

        # 5. The API under the fuzzer, and the cross-tenant matrix (a platform of its own).
        if args.examples > 0:
            say(f"[bold]schemathesis[/bold]: every gateway route, {args.examples} examples each")
            rows.append(await asyncio.to_thread(schemathesis, settings, main.key, args.examples))
        if not args.skip_matrix:
            say("[bold]cross-tenant matrix[/bold] (pytest, a platform of its own)")
            rows.append(await asyncio.to_thread(cross_tenant, args.port_base + 500))
    finally:
        if args.keep:
            say(f"the platform is left running (--keep): stop it with LIMELIGHT_STATE_DIR={settings.state_dir} ./limelight down")
        else:
            await asyncio.to_thread(plat.down)

    elapsed = time.monotonic() - started
    table = Table(title=f"Reliability suite — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {elapsed / 60:.1f} min")
    for column in ("check", "faults", "requests", "acknowledged", "lost", "duplicated", "5xx", "500", "recovery s", "ok"):
        table.add_column(column, justify="left" if column == "check" else "right")
    for r in rows:
        table.add_row(r.check, str(r.faults), str(r.sent), str(r.acknowledged), "-" if r.lost is None else str(r.lost),
                      "-" if r.duplicated is None else str(r.duplicated), str(r.errors_5xx), str(r.errors_500),
                      "-" if r.recovery is None else f"{r.recovery:.1f}", "yes" if r.passed else "NO")
    out = Console(width=200) if not sys.stdout.isatty() else Console()
    out.print(table)
    for r in rows:
        out.print(f"  {r.check}: {r.note}", highlight=False)
    for fact in facts:
        out.print(f"  {fact}", highlight=False)
    ok = all_ok and all(r.passed for r in rows)
    out.print(f"\n{'ALL GUARANTEES HELD' if ok else 'SOME GUARANTEES FAILED'}", highlight=False)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result_file = args.out or RESULTS / f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    result_file.write_text(json.dumps({
        "machine": {"host": host.node(), "cpus": os.cpu_count(), "python": host.python_version(), "system": host.platform()},
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "elapsed_seconds": round(elapsed, 1), "passed": ok, "facts": facts,
        "rows": [r.__dict__ for r in rows]}, indent=2))
    out.print(f"written to {result_file}")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port-base", type=int, default=31000,
                        help="gateway port; the others follow, the cross-tenant matrix from +500 (default 31000)")
    parser.add_argument("--state", default="reliability", help="the platform's folder under .limelight/ (emptied first)")
    parser.add_argument("--rate", type=float, default=6.0, help="orders and clicks per second each (searches at half)")
    parser.add_argument("--down", type=float, default=8.0, help="seconds the broker and the database stay down")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds of load before the first fault and after each recovery")
    parser.add_argument("--orders", type=int, default=30, help="orders of the triple-delivery set")
    parser.add_argument("--poison", type=int, default=3, help="unreadable partner payloads")
    parser.add_argument("--examples", type=int, default=10, help="schemathesis examples per operation (0: skip)")
    parser.add_argument("--skip-matrix", action="store_true", help="leave out the cross-tenant matrix")
    parser.add_argument("--only", type=lambda s: s.split(","), default=None, help=f"faults to inject, of {','.join(TARGETS)}")
    parser.add_argument("--seed", type=int, default=1, help="the triple delivery's shuffle")
    parser.add_argument("--keep", action="store_true", help="leave the suite's platform running afterwards (to look into it)")
    parser.add_argument("--out", type=Path, default=None, help="the JSON's path")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
