"""Read a seeded world back through the gateway and judge it against the seed's ground truth.

Used by the end-to-end journeys (tests/e2e/test_journeys.py) and by `limelight seed --check`:
- **fraud caught**, per kind: the planted cases the audits (a flag of the kind) or the fraud rules
  (a held order with a finding of the kind) caught — recall — and the clean creators or orders
  flagged the same way — false positives;
- **money**: each creator's ledger, each campaign's orders, revenue and commission, and the
  flagged clicks, against the figures the ground truth gives, to the cent (minor unit).
Nothing here reads a database: it sees what a brand's API key sees.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx

# The audit flag that catches each planted creator kind (docs/guide/audit-signals.md and the
# pods and disclosure guides), and the fraud rule that catches each planted order kind.
CREATOR_FLAGS = {
    "bought_followers": "growth_spike_unexplained",
    "fake_audience": "audience_low_quality",
    "engagement_pod": "engagement_pod",
    "undisclosed_sponsored": "disclosure_failures",
}
ORDER_RULES = {"self_referral": "self_referral", "leaked_code": "leaked_code"}


@dataclass
class KindScore:
    kind: str
    judged_by: str
    planted: int
    caught: int
    clean: int
    false_positives: int

    @property
    def recall(self) -> float:
        return self.caught / self.planted if self.planted else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.clean if self.clean else 0.0


@dataclass
class Judgement:
    kinds: list[KindScore] = field(default_factory=list)
    money_mismatches: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    audits_unfinished: int = 0
    clicks: dict[str, int] = field(default_factory=lambda: {"bots": 0, "humans": 0, "flagged": 0})


async def _pages(client: httpx.AsyncClient, path: str, params: dict | None = None) -> list[dict]:
    items, cursor = [], None
    while True:
        answer = await client.get(path, params={**(params or {}), "limit": 200, **({"cursor": cursor} if cursor else {})})
        answer.raise_for_status()
        body = answer.json()
        items += body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return items


async def latest_audits(client: httpx.AsyncClient, creator_ids: set[str], *, timeout: float) -> dict[str, dict]:
    """Each creator's newest audit the workspace asked for, once none of them is still running."""
    deadline = time.monotonic() + timeout
    while True:
        newest: dict[str, dict] = {}
        for audit in await _pages(client, "/v1/audit/audits"):
            if audit["creator_id"] in creator_ids:
                held = newest.get(audit["creator_id"])
                if held is None or audit["created_at"] > held["created_at"]:
                    newest[audit["creator_id"]] = audit
        running = [a for a in newest.values() if a["status"] not in ("completed", "failed")]
        if (not running and len(newest) == len(creator_ids)) or time.monotonic() > deadline:
            return newest
        await asyncio.sleep(2.0)


async def judge(gateway: str, truth: dict, keys: list[dict], *, timeout: float = 300) -> Judgement:
    judgement = Judgement()
    ids = truth["creator_ids"]
    async with httpx.AsyncClient(base_url=gateway, timeout=60, headers={"Authorization": f"Bearer {keys[0]['key']}"}) as main:
        audits = await latest_audits(main, set(ids.values()), timeout=timeout)
    judgement.audits_unfinished = sum(1 for a in audits.values() if a["status"] != "completed") + len(ids) - len(audits)
    flags = {key: set(audits.get(ids[key], {}).get("flags") or ()) for key in ids}
    clean = truth["clean_creators"]
    for kind, flag in CREATOR_FLAGS.items():
        planted = truth["creator_fraud"][kind]
        judgement.kinds.append(KindScore(kind, f"audit flag {flag}", len(planted), sum(flag in flags[k] for k in planted),
                                         len(clean), sum(flag in flags[k] for k in clean)))

    judgement.kinds.append(KindScore("any flag on a clean creator", "audit flags", 0, 0, len(clean),
                                     sum(bool(flags[k]) for k in clean)))

    reviews_by_rule: dict[str, set[str]] = defaultdict(set)
    expected_orders = {str(o["number"]): o for o in truth["orders"]}
    for b, key in enumerate(keys):
        async with httpx.AsyncClient(base_url=gateway, timeout=60, headers={"Authorization": f"Bearer {key['key']}"}) as api:
            for review in await _pages(api, "/v1/attribution/fraud/reviews", {"status": "held"}):
                for finding in review["findings"]:
                    reviews_by_rule[finding["rule"]].add(review["order_id"])
            await _money(api, b, truth, judgement)
    # A campaign report counts flagged clicks, not which: a flagged human click shows as a
    # flagged count above the bots (and the money check above names the campaign).
    flagged = judgement.clicks["flagged"]
    judgement.kinds.append(KindScore("bot_click", "click redirect (flagged)", judgement.clicks["bots"],
                                     min(flagged, judgement.clicks["bots"]), judgement.clicks["humans"],
                                     max(0, flagged - judgement.clicks["bots"])))
    order_kind = {n: o["kind"] for n, o in expected_orders.items()}
    for kind, rule in ORDER_RULES.items():
        planted = [n for n, k in order_kind.items() if k == kind]
        others = [n for n, k in order_kind.items() if k is None]
        judgement.kinds.append(KindScore(kind, f"fraud rule {rule} (held)", len(planted),
                                         sum(n in reviews_by_rule[rule] for n in planted), len(others),
                                         sum(n in reviews_by_rule[rule] for n in others)))
    held_clean = {n for rule_orders in reviews_by_rule.values() for n in rule_orders if order_kind.get(n) is None}
    judgement.kinds.append(KindScore("any rule on a clean order", "fraud rules (held)", 0, 0,
                                     sum(1 for k in order_kind.values() if k is None), len(held_clean)))
    return judgement


async def _money(api: httpx.AsyncClient, b: int, truth: dict, judgement: Judgement) -> None:
    """A brand's ledger per creator, and each campaign's report, against the ground truth."""
    brand = truth["brands"][b]
    currency = brand["currency"]
    orders = [o for o in truth["orders"] if o["brand"] == b]
    ids = truth["creator_ids"]
    expected_net: dict[str, int] = defaultdict(int)
    for o in orders:
        expected_net[ids[o["creator"]]] += o["commission"]
    answer = await api.get("/v1/attribution/ledger/balances", params={"limit": 200})
    answer.raise_for_status()
    balances = {row["creator_id"]: row for row in answer.json()["items"] if row["currency"] == currency}
    for creator_id, want in expected_net.items():
        row = balances.get(creator_id)
        got = 0 if row is None else row["pending"] + row["approved"] - row["owed"] + row["paid"]
        judgement.checked["creator ledgers"] = judgement.checked.get("creator ledgers", 0) + 1
        if got != want:
            judgement.money_mismatches.append(f"{brand['name']}: creator {creator_id} ledger {got} {currency}, expected {want}")
    for c, campaign_id in enumerate(truth["campaign_ids"][b]):
        mine = [o for o in orders if o["campaign"] == c]
        answer = await api.get(f"/v1/attribution/campaigns/{campaign_id}/report")
        answer.raise_for_status()
        report = answer.json()
        [money] = [m for m in report["money"] if m["currency"] == currency] or [{}]
        want = {"orders": len(mine), "cancelled_orders": sum(o["cancelled"] for o in mine),
                "revenue": sum(o["basis"] for o in mine), "net_commission": sum(o["commission"] for o in mine)}
        for name, value in want.items():
            judgement.checked["campaign figures"] = judgement.checked.get("campaign figures", 0) + 1
            if money.get(name) != value:
                judgement.money_mismatches.append(
                    f"{brand['name']} campaign {c} {name}: {money.get(name)} against {value} expected")
        bots = truth["bot_clicks_by_campaign"][b][c]
        humans = truth["human_clicks_by_campaign"][b][c]
        judgement.checked["campaign clicks"] = judgement.checked.get("campaign clicks", 0) + 1
        judgement.clicks["bots"] += bots
        judgement.clicks["humans"] += humans
        judgement.clicks["flagged"] += report["clicks"]["flagged"]
        if (report["clicks"]["total"], report["clicks"]["flagged"]) != (bots + humans, bots):
            judgement.money_mismatches.append(
                f"{brand['name']} campaign {c} clicks: {report['clicks']} against {bots + humans} total, {bots} flagged")


def table(judgement: Judgement):
    from rich.table import Table

    out = Table(title="Seeded fraud: caught and false positives")
    for column in ("kind", "judged by", "planted", "caught", "recall", "clean", "false positives", "FP rate"):
        out.add_column(column, justify="left" if column in ("kind", "judged by") else "right")
    for k in judgement.kinds:
        out.add_row(k.kind, k.judged_by, str(k.planted), str(k.caught), f"{k.recall:.2f}" if k.planted else "-",
                    str(k.clean), str(k.false_positives), f"{k.false_positive_rate:.3f}")
    return out
