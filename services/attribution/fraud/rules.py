"""The fraud rules, pure: an order's facts and the tenant's thresholds in, findings out. No
database, no clock: service.py gathers the facts with set-based queries, once per credited order.

Each rule looks at one signal and says in plain language why it fired, with the figures that
made it fire (`evidence`), so an operator can judge the order without reading code. A rule that
lacks its facts (an order with no click has no click-to-order time) does not fire: a rule never
guesses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

SELF_REFERRAL = "self_referral"
CLICK_BURST = "click_burst"
CLICK_INJECTION = "click_injection"
LEAKED_CODE = "leaked_code"
BOT_TRAFFIC = "bot_traffic"
RULES = (SELF_REFERRAL, CLICK_BURST, CLICK_INJECTION, LEAKED_CODE, BOT_TRAFFIC)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """A tenant's thresholds; these defaults apply until the tenant sets its own
    (docs/guide/attribution-fraud.md explains each)."""

    self_referral: bool = True
    burst_clicks: int = 5               # more than this many clicks from one address or network ...
    burst_minutes: int = 10             # ... within this many minutes either side of the credited click
    injection_seconds: int = 10         # a click this close before the order (or after it) is injected
    leaked_lookback_days: int = 30      # the code's history the share and the normal rate are read from
    leaked_min_orders: int = 20         # the no-click share is judged from this many orders on
    leaked_no_click_share: float = 0.9  # share of the code's orders with no click from its creator
    velocity_factor: float = 10.0       # orders in the last hour above this many times the normal hourly rate ...
    velocity_min_orders: int = 5        # ... and at least this many of them
    new_customer_excess: float = 0.3    # the code's share of new customers above the campaign's other orders' by more than this
    unusual_country_share: float = 0.5  # share of the code's orders shipped where the campaign rarely ships ...
    country_floor: float = 0.05         # ... a country under this share of the campaign's other orders
    bot_clicks: int = 1                 # flagged clicks of the visitor or its network reaching the order
    bot_lookback_hours: int = 24


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules read about one credited order. None: not known for this order."""

    placed_at: datetime
    touch_kind: str                                 # "code" or "click": what won the credit
    customer_is_creators: bool = False              # the customer's key is one the creator registered
    click_at: datetime | None = None                # the credited click (or the creator's last click on the order)
    address_clicks: int | None = None               # the creator's clicks from the click's visitor within the burst window
    network_clicks: int | None = None               # ... from its /24 (IPv4) or /48 (IPv6) network
    code_orders: int | None = None                  # the code's credited orders in the lookback, this one included
    code_orders_without_click: int | None = None    # ... of which carried no click of the code's creator
    code_orders_last_hour: int | None = None        # the code's credited orders in the hour up to this one, included
    code_orders_before_hour: int | None = None      # the code's credited orders in the lookback before that hour
    code_new_customers: int | None = None           # the code's orders (lookback) by customers new to the brand
    other_orders: int | None = None                 # the campaign's other credited orders in the lookback (not this code)
    other_new_customers: int | None = None          # ... of which by new customers
    code_countries: dict[str, int] | None = None    # the code's orders (lookback) by shipping country
    other_countries: dict[str, int] | None = None   # the campaign's other orders by shipping country
    flagged_clicks: int = 0                         # flagged clicks of the order's visitor or network in the bot lookback
    flag_reasons: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    reason: str
    evidence: dict

    def as_dict(self) -> dict:
        # A finding is built afresh for each order and never changed: its evidence needs no deep
        # copy (dataclasses.asdict's took ~3 % of the order consumer)
        return {"rule": self.rule, "reason": self.reason, "evidence": dict(self.evidence)}


def evaluate(facts: Facts, limits: Thresholds) -> list[Finding]:
    """Every rule that fires on the order, in the order of RULES."""
    found = [
        _self_referral(facts, limits), _click_burst(facts, limits), _click_injection(facts, limits),
        *_leaked_code(facts, limits), _bot_traffic(facts, limits),
    ]
    return [f for f in found if f is not None]


def _self_referral(facts: Facts, limits: Thresholds) -> Finding | None:
    if not limits.self_referral or not facts.customer_is_creators:
        return None
    return Finding(SELF_REFERRAL, "The customer is the credited creator: the order's customer key is one the creator "
                   "registered as their own.", {"customer_is_creators": True})


def _click_burst(facts: Facts, limits: Thresholds) -> Finding | None:
    for what, count in (("address", facts.address_clicks), ("network", facts.network_clicks)):
        if count is not None and count > limits.burst_clicks:
            where = "one address" if what == "address" else "one /24 (IPv4) or /48 (IPv6) network"
            return Finding(CLICK_BURST, f"{count} clicks on the creator's links came from {where} within "
                           f"{limits.burst_minutes} minutes of the credited click (more than {limits.burst_clicks}).",
                           {"scope": what, "clicks": count, "limit": limits.burst_clicks, "minutes": limits.burst_minutes})
    return None


def _click_injection(facts: Facts, limits: Thresholds) -> Finding | None:
    if facts.touch_kind != "click" or facts.click_at is None:
        return None
    seconds = (facts.placed_at - facts.click_at).total_seconds()
    if seconds >= limits.injection_seconds:
        return None
    if seconds < 0:
        reason = f"The credited click came {-seconds:.0f} s after the order was placed."
    else:
        reason = (f"The order was placed {seconds:.1f} s after the credited click, faster than a shopper can "
                  f"(the limit is {limits.injection_seconds} s): a click injected just before checkout.")
    return Finding(CLICK_INJECTION, reason, {"seconds": round(seconds, 3), "limit_seconds": limits.injection_seconds})


def _leaked_code(facts: Facts, limits: Thresholds) -> list[Finding | None]:
    if facts.touch_kind != "code":
        return []
    found: list[Finding | None] = []
    orders, without = facts.code_orders, facts.code_orders_without_click
    if orders is not None and without is not None and orders >= limits.leaked_min_orders:
        share = without / orders
        if share > limits.leaked_no_click_share:
            found.append(Finding(
                LEAKED_CODE, f"{without} of the code's {orders} orders in the last {limits.leaked_lookback_days} days "
                f"({share:.0%}) came with no click from its creator (more than {limits.leaked_no_click_share:.0%}): "
                "the code circulates on coupon sites.",
                {"signal": "no_click_share", "orders": orders, "without_click": without, "share": round(share, 4),
                 "limit_share": limits.leaked_no_click_share}))
    hour, before = facts.code_orders_last_hour, facts.code_orders_before_hour
    if hour is not None and before is not None and hour >= limits.velocity_min_orders:
        hours = limits.leaked_lookback_days * 24 - 1
        normal = before / hours if hours > 0 else 0.0
        if hour > limits.velocity_factor * normal:
            found.append(Finding(
                LEAKED_CODE, f"The code was redeemed {hour} times in the hour up to this order, against a normal "
                f"{normal:.2f} an hour over the last {limits.leaked_lookback_days} days (more than "
                f"{limits.velocity_factor:g} times it).",
                {"signal": "velocity", "last_hour": hour, "normal_per_hour": round(normal, 4),
                 "factor": limits.velocity_factor}))
    found += [_new_customers(facts, limits), _countries(facts, limits)]
    return found


def _new_customers(facts: Facts, limits: Thresholds) -> Finding | None:
    """Coupon sites bring deal hunters who never bought before: the code's share of new customers
    far above that of the campaign's other orders."""
    orders, new, others, others_new = facts.code_orders, facts.code_new_customers, facts.other_orders, facts.other_new_customers
    if None in (orders, new, others, others_new) or orders < limits.leaked_min_orders or others < limits.leaked_min_orders:
        return None
    share, usual = new / orders, others_new / others
    if share - usual <= limits.new_customer_excess:
        return None
    return Finding(
        LEAKED_CODE, f"{new} of the code's {orders} orders in the last {limits.leaked_lookback_days} days ({share:.0%}) "
        f"came from new customers, against {usual:.0%} of the campaign's {others} other orders (more than "
        f"{limits.new_customer_excess * 100:g} points above): a code spread beyond the creator's audience.",
        {"signal": "new_customer_share", "orders": orders, "new_customers": new, "share": round(share, 4),
         "campaign_share": round(usual, 4), "other_orders": others, "limit_excess": limits.new_customer_excess})


def _countries(facts: Facts, limits: Thresholds) -> Finding | None:
    """The code's orders shipped mostly where the campaign's other orders rarely go."""
    mine, theirs = facts.code_countries, facts.other_countries
    if mine is None or theirs is None:
        return None
    others, shipped = sum(theirs.values()), sum(mine.values())
    if others < limits.leaked_min_orders or shipped < limits.leaked_min_orders:
        return None
    unusual = {c: n for c, n in mine.items() if theirs.get(c, 0) / others < limits.country_floor}
    share = sum(unusual.values()) / shipped
    if share <= limits.unusual_country_share:
        return None
    listed = ", ".join(f"{c} {n}" for c, n in sorted(unusual.items(), key=lambda kv: (-kv[1], kv[0]))[:5])
    return Finding(
        LEAKED_CODE, f"{sum(unusual.values())} of the code's {shipped} orders with a shipping country in the last "
        f"{limits.leaked_lookback_days} days ({share:.0%}) went to countries that take under {limits.country_floor:.0%} "
        f"of the campaign's other orders ({listed}); more than {limits.unusual_country_share:.0%}.",
        {"signal": "unusual_countries", "orders_with_country": shipped, "unusual": dict(sorted(unusual.items())),
         "share": round(share, 4), "limit_share": limits.unusual_country_share, "country_floor": limits.country_floor})


def _bot_traffic(facts: Facts, limits: Thresholds) -> Finding | None:
    if facts.flagged_clicks < limits.bot_clicks:
        return None
    reasons = ", ".join(sorted(set(facts.flag_reasons))) or "flagged"
    return Finding(BOT_TRAFFIC, f"{facts.flagged_clicks} flagged clicks ({reasons}) came from the order's visitor or its "
                   f"network in the {limits.bot_lookback_hours} hours before the order.",
                   {"flagged_clicks": facts.flagged_clicks, "reasons": sorted(set(facts.flag_reasons)),
                    "limit": limits.bot_clicks, "hours": limits.bot_lookback_hours})
