"""Each fraud rule, pure (services/attribution/fraud/rules.py): a crafted order that trips it and a
clean one that does not, at the default thresholds and at a tenant's own."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.attribution.clicks.service import network_of
from services.attribution.fraud.rules import (
    BOT_TRAFFIC,
    CLICK_BURST,
    CLICK_INJECTION,
    LEAKED_CODE,
    SELF_REFERRAL,
    Facts,
    Thresholds,
    evaluate,
)

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DEFAULT = Thresholds()


def by_click(**kw) -> Facts:
    """A clean order credited to a click 5 minutes before it, from a visitor who clicked twice."""
    return Facts(**{"placed_at": AT, "touch_kind": "click", "click_at": AT - timedelta(minutes=5),
                    "address_clicks": 2, "network_clicks": 3, **kw})


def by_code(**kw) -> Facts:
    """A clean order credited to a code: 40 orders in 30 days, 10 without the creator's click, 1 in the last hour."""
    return Facts(**{"placed_at": AT, "touch_kind": "code", "code_orders": 40, "code_orders_without_click": 10,
                    "code_orders_last_hour": 1, "code_orders_before_hour": 39, **kw})


def rules(facts: Facts, limits: Thresholds = DEFAULT) -> list[str]:
    return [f.rule for f in evaluate(facts, limits)]


def test_clean_orders_fire_nothing():
    assert rules(by_click()) == []
    assert rules(by_code()) == []
    assert rules(Facts(placed_at=AT, touch_kind="code")) == []  # nothing known: nothing guessed


def test_self_referral_fires_on_the_creators_own_customer_key_unless_switched_off():
    [finding] = evaluate(by_code(customer_is_creators=True), DEFAULT)
    assert finding.rule == SELF_REFERRAL and "registered as their own" in finding.reason
    assert rules(by_code(customer_is_creators=True), replace(DEFAULT, self_referral=False)) == []


def test_click_burst_fires_past_the_limit_from_one_address_or_one_network():
    [finding] = evaluate(by_click(address_clicks=6), DEFAULT)
    assert finding.rule == CLICK_BURST and finding.evidence == {"scope": "address", "clicks": 6, "limit": 5, "minutes": 10}
    assert evaluate(by_click(network_clicks=9), DEFAULT)[0].evidence["scope"] == "network"
    assert rules(by_click(address_clicks=5, network_clicks=5)) == []  # at the limit: not more than it
    assert rules(by_click(address_clicks=4), replace(DEFAULT, burst_clicks=3)) == [CLICK_BURST]
    assert rules(by_click(address_clicks=None, network_clicks=None)) == []


def test_click_injection_fires_on_an_order_seconds_after_its_click_or_before_it():
    [finding] = evaluate(by_click(click_at=AT - timedelta(seconds=3)), DEFAULT)
    assert finding.rule == CLICK_INJECTION and finding.evidence == {"seconds": 3.0, "limit_seconds": 10}
    assert "3.0 s after the credited click" in finding.reason
    assert rules(by_click(click_at=AT + timedelta(seconds=30))) == [CLICK_INJECTION]  # the click after the order
    assert rules(by_click(click_at=AT - timedelta(seconds=10))) == []
    assert rules(by_click(click_at=AT - timedelta(seconds=30)), replace(DEFAULT, injection_seconds=60)) == [CLICK_INJECTION]
    # A code order is not judged by its click time: the code won, not a click.
    assert rules(by_code(click_at=AT - timedelta(seconds=1))) == []


def test_leaked_code_fires_on_a_high_no_click_share_once_enough_orders_are_known():
    [finding] = evaluate(by_code(code_orders=40, code_orders_without_click=38), DEFAULT)
    assert finding.rule == LEAKED_CODE and finding.evidence["signal"] == "no_click_share"
    assert finding.evidence["share"] == 0.95 and "38 of the code's 40 orders" in finding.reason
    assert rules(by_code(code_orders=40, code_orders_without_click=36)) == []  # 90 %: not more than it
    # 19 orders, all without a click: too few to judge at the default minimum of 20.
    assert rules(by_code(code_orders=19, code_orders_without_click=19, code_orders_before_hour=18)) == []
    assert rules(by_code(code_orders=19, code_orders_without_click=19, code_orders_before_hour=18),
                 replace(DEFAULT, leaked_min_orders=10)) == [LEAKED_CODE]


def test_leaked_code_fires_on_a_redemption_velocity_far_above_the_codes_normal_rate():
    # 719 orders in the 719 hours before: 1 an hour. 12 in the last hour is more than 10 times that.
    fast = by_code(code_orders=731, code_orders_without_click=0, code_orders_last_hour=12, code_orders_before_hour=719)
    [finding] = evaluate(fast, DEFAULT)
    assert finding.evidence == {"signal": "velocity", "last_hour": 12, "normal_per_hour": 1.0, "factor": 10.0}
    assert rules(replace(fast, code_orders_last_hour=10)) == []  # 10 times: not above it
    # A code with no history: 4 orders in its first hour are below the minimum of 5; 5 fire.
    assert rules(by_code(code_orders=4, code_orders_without_click=0, code_orders_last_hour=4, code_orders_before_hour=0)) == []
    assert rules(by_code(code_orders=5, code_orders_without_click=0, code_orders_last_hour=5,
                         code_orders_before_hour=0)) == [LEAKED_CODE]


def test_both_leaked_code_signals_are_reported():
    both = by_code(code_orders=30, code_orders_without_click=30, code_orders_last_hour=30, code_orders_before_hour=0)
    assert [f.evidence["signal"] for f in evaluate(both, DEFAULT)] == ["no_click_share", "velocity"]


def test_leaked_code_fires_on_a_share_of_new_customers_far_above_the_campaigns():
    # 24 of the code's 30 orders by new customers (80 %) against 12 of 40 other orders (30 %): 50 points above.
    spread = by_code(code_orders=30, code_orders_without_click=0, code_new_customers=24, other_orders=40,
                     other_new_customers=12)
    [finding] = evaluate(spread, DEFAULT)
    assert finding.rule == LEAKED_CODE and finding.evidence["signal"] == "new_customer_share"
    assert (finding.evidence["share"], finding.evidence["campaign_share"]) == (0.8, 0.3)
    assert "24 of the code's 30 orders" in finding.reason and "against 30% of the campaign's 40" in finding.reason
    assert "more than 30 points above" in finding.reason
    assert rules(replace(spread, code_new_customers=18)) == []  # 60 %: 30 points above, not more
    assert rules(replace(spread, other_orders=19, other_new_customers=5)) == []  # too few others to compare with
    assert rules(replace(spread, code_orders=19, code_new_customers=19)) == []  # too few of the code's own
    assert rules(replace(spread, code_new_customers=18), replace(DEFAULT, new_customer_excess=0.2)) == [LEAKED_CODE]


def test_leaked_code_fires_when_its_orders_ship_where_the_campaign_rarely_does():
    # The campaign's other orders: 95 to the US, 5 to GB. The code's: 14 to BR and 4 to IN (neither
    # under 5 % of the others: both unusual) and 6 to the US: 18 of 24 (75 %) unusual.
    spread = by_code(code_orders=24, code_orders_without_click=0, code_countries={"BR": 14, "IN": 4, "US": 6},
                     other_countries={"US": 95, "GB": 5})
    [finding] = evaluate(spread, DEFAULT)
    assert finding.evidence == {"signal": "unusual_countries", "orders_with_country": 24, "unusual": {"BR": 14, "IN": 4},
                                "share": 0.75, "limit_share": 0.5, "country_floor": 0.05}
    assert "(BR 14, IN 4)" in finding.reason
    # GB is 5 % of the others: not under the floor, so usual; the code's 12 of 24 in BR are 50 %, not more.
    assert rules(replace(spread, code_countries={"BR": 12, "GB": 6, "US": 6})) == []
    assert rules(replace(spread, other_countries={"US": 15})) == []  # too few other orders to know the usual
    assert rules(replace(spread, code_countries={"BR": 14, "US": 5})) == []  # 19 orders with a country: too few


def test_bot_traffic_fires_on_flagged_clicks_of_the_orders_visitor_or_network():
    [finding] = evaluate(by_click(flagged_clicks=2, flag_reasons=("data centre: AWS", "bot: curl")), DEFAULT)
    assert finding.rule == BOT_TRAFFIC and finding.evidence["reasons"] == ["bot: curl", "data centre: AWS"]
    assert rules(by_code(flagged_clicks=1, flag_reasons=("head request",))) == [BOT_TRAFFIC]
    assert rules(by_click(flagged_clicks=0)) == []
    assert rules(by_click(flagged_clicks=2, flag_reasons=("bot: curl",)), replace(DEFAULT, bot_clicks=3)) == []


def test_several_rules_fire_together_in_a_stable_order():
    facts = by_click(customer_is_creators=True, address_clicks=50, click_at=AT - timedelta(seconds=1), flagged_clicks=1)
    assert rules(facts) == [SELF_REFERRAL, CLICK_BURST, CLICK_INJECTION, BOT_TRAFFIC]


def test_networks_are_the_addresses_slash_24_or_slash_48():
    assert network_of("203.0.113.7") == network_of("203.0.113.250") == "203.0.113.0/24"
    assert network_of("203.0.114.7") != network_of("203.0.113.7")
    assert network_of("2001:db8:1:2::5") == network_of("2001:db8:1:ffff::9") == "2001:db8:1::/48"
    assert network_of("::ffff:203.0.113.9") == "203.0.113.0/24"
    assert network_of("not an address") is None and network_of(None) is None
