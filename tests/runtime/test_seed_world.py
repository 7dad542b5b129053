"""The demo world (`limelight seed`) as data: deterministic, valid against the services' own
input models, with its fraud planted as the ground truth says and its money exact.

Pure: no platform. tests/e2e/test_journeys.py loads a world through the gateway and checks what
the platform makes of it."""

import json
from datetime import datetime, timezone

import pytest

from runtime.seed import plan
from runtime.seed.creator import tier_of
from runtime.seed.fraud import LEAKED_ORDERS, POD_SIZE
from runtime.seed.model import PERCENT
from runtime.seed.shopify import shopify_order, shopify_refund
from services.attribution.orders import shopify
from services.attribution.orders.basis import commission_basis
from services.audit.samples.schemas import CommentLine, FollowerLine
from services.discovery.creator.schemas import CreatorCreate

ANCHOR = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def made() -> plan.World:
    return plan.build(11, 300, ANCHOR)


def test_the_same_seed_makes_the_same_world_and_another_seed_another():
    one = json.dumps(plan.build(5, 120, ANCHOR).truth(), sort_keys=True)
    assert one == json.dumps(plan.build(5, 120, ANCHOR).truth(), sort_keys=True)
    assert one != json.dumps(plan.build(6, 120, ANCHOR).truth(), sort_keys=True)
    lines = [c.line for c in plan.build(5, 120, ANCHOR).creators]
    assert lines == [c.line for c in plan.build(5, 120, ANCHOR).creators]


def test_too_small_a_world_is_refused():
    with pytest.raises(ValueError, match="at least 20"):
        plan.build(1, 10, ANCHOR)


def test_every_line_is_one_the_services_accept(made):
    for creator in made.creators:
        CreatorCreate.model_validate_json(json.dumps(creator.line))
        for profile in creator.sample:
            FollowerLine.model_validate({"creator_id": "6f1c0e8e-0d1b-4c55-9d6e-2f3f4d9a8b71", **profile})
        for comment in creator.comments:
            CommentLine.model_validate(comment)
    handles = [c.key for c in made.creators]
    assert len(set(handles)) == len(handles)


def test_history_lies_before_the_anchor(made):
    for creator in made.creators:
        times = [p["posted_at"] for p in creator.line["posts"]] + [p["observed_at"] for p in creator.line["follower_points"]]
        times += [c["commented_at"] for c in creator.comments] + [creator.line["accounts"][0]["observed_at"]]
        assert max(datetime.fromisoformat(t) for t in times) <= ANCHOR


def test_followers_follow_a_power_law(made):
    followers = sorted(c.line["accounts"][0]["followers"] for c in made.creators)
    tiers = [tier_of(f) for f in followers]
    # Most creators are small, a few are very large: nano the largest tier, and a long tail.
    assert tiers.count("nano") > len(tiers) / 2
    assert followers[-1] > 50 * followers[len(followers) // 2]


def test_fraud_is_planted_on_separate_creators_in_its_share(made):
    truth = made.truth()
    planted = [key for keys in truth["creator_fraud"].values() for key in keys]
    assert len(planted) == len(set(planted))  # one kind per creator: recall per kind means something
    for kind, keys in truth["creator_fraud"].items():
        assert len(keys) >= (POD_SIZE if kind == "engagement_pod" else 1)
        assert len(keys) <= 0.04 * len(made.creators) + POD_SIZE
    assert set(truth["clean_creators"]).isdisjoint(planted)
    by_key = {c.key: c for c in made.creators}
    for key in truth["creator_fraud"]["fake_audience"]:
        assert all(p["following_count"] > 1500 and not p["has_profile_pic"] for p in by_key[key].sample)
    for key in truth["creator_fraud"]["bought_followers"]:
        counts = [p["followers"] for p in by_key[key].line["follower_points"]] + [by_key[key].line["accounts"][0]["followers"]]
        jumps = [b / a - 1 for a, b in zip(counts, counts[1:])]
        assert max(jumps) >= 0.09 and sorted(jumps)[-2] < 0.02  # one bought day, ordinary growth otherwise
    for key in truth["creator_fraud"]["undisclosed_sponsored"]:
        sponsored = [p["caption"] for p in by_key[key].line["posts"] if "use my code" in p["caption"]]
        assert len(sponsored) == 2 and not any("#ad" in c.lower() for c in sponsored)


def test_fans_rarely_repeat_each_other(made):
    """Audit flags text repeated across creators; clean creators' fans must not look like bots."""
    texts = [c["text"] for creator in made.creators if not creator.kinds for c in creator.comments
             if len(c["text"].split()) >= 3]
    assert len(set(texts)) / len(texts) > 0.99


def test_orders_carry_exact_money_and_the_shop_reads_them_so(made):
    truth = made.truth()
    assert truth["order_fraud"]["self_referral"] and len(truth["order_fraud"]["leaked_code"]) == 2 * LEAKED_ORDERS
    for order in made.orders:
        brand = made.brands[order.brand]
        code = brand.campaigns[order.campaign].codes[order.creator] if order.by == "code" else None
        body = shopify_order(order, brand.currency, ANCHOR, "c" * 22 if order.by == "click" else None, code)
        parsed = shopify.parse_order(json.loads(json.dumps(body)), lambda _: "k")
        assert parsed.notes == ()  # the totals add up with the lines
        assert commission_basis(parsed.message).amount_minor == order.quantity * (order.unit_price - order.unit_discount)
        if order.refunded_units:
            refund = shopify.parse_refund(json.loads(json.dumps(shopify_refund(order, brand.currency, ANCHOR))),
                                          brand.currency, "")
            assert commission_basis(parsed.message, [refund]).amount_minor == order.basis
        # 10 % of every basis, before and after a refund, is a whole number of minor units.
        assert order.earned * 100 == order.quantity * (order.unit_price - order.unit_discount) * PERCENT
        assert order.commission * 100 == order.basis * PERCENT
        if order.kind is not None:
            assert not order.cancelled and not order.refunded_units


def test_normal_codes_stay_under_the_leak_velocity(made):
    """A code redeemed 5 times in an hour looks leaked (fraud rule defaults): only the planted ones may."""
    per_code: dict[tuple, int] = {}
    for order in made.orders:
        if order.by == "code" and order.kind is None:
            key = (order.brand, order.campaign, order.creator)
            per_code[key] = per_code.get(key, 0) + 1
    assert max(per_code.values()) <= 3


def test_each_visitor_has_a_network_of_its_own(made):
    networks = [c.visitor.rsplit(".", 1)[0] for c in made.clicks]
    assert len(set(networks)) == len(networks)
    assert all(c.visitor.startswith("127.") and not c.visitor.startswith("127.0.0.") for c in made.clicks)


def test_a_million_creator_world_is_planned_without_making_its_creators():
    """The plan of a benchmark-scale world (who is fraudulent, brands, campaigns, clicks, orders)
    is made without making a million creators; a creator is made when asked for, the same each
    time, with the fraud the plan gave it."""
    import time
    import tracemalloc

    tracemalloc.start()
    started = time.perf_counter()
    made = plan.build(3, 1_000_000, ANCHOR)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(made.creators) == 1_000_000
    # Not a speed assertion: a plan that made every creator would take minutes and gigabytes.
    assert peak < 500 * 2**20 and elapsed < 60, (peak, elapsed)
    pod = made.creators.indices_of("engagement_pod")
    assert len(pod) == 30_000
    member = made.creators[pod[0]]
    assert member.kinds == ["engagement_pod"]
    assert made.creators[pod[0]].comments == member.comments
    assert made.creators.key(pod[0]) == member.key
    # Its pod mates' own accounts comment on its posts.
    mates = {made.creators.key(i).split(":", 1)[1] for i in made.creators.pods[pod[0]] if i != pod[0]}
    assert mates <= {c["author"] for c in member.comments}
    assert made.creators[999_999].key.endswith(".999999")
