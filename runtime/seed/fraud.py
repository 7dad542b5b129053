"""The planted fraud: its kinds and share, the choice of the creators who carry each kind (drawn
from the plan's generator), and what each kind does to a creator once made (from a generator of
the creator's own). The affiliate fraud on orders is planned with the orders (plan.py); its
kinds and size are here."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from runtime.seed.creator import fake_follower
from runtime.seed.model import SAMPLE_SIZE, SERIES_DAYS, Brand, Creator

CREATOR_KINDS = ("bought_followers", "fake_audience", "engagement_pod", "undisclosed_sponsored")
ORDER_KINDS = ("self_referral", "leaked_code")
FRAUD_SHARE = 0.03  # of creators, per creator kind
POD_SIZE = 5
LEAKED_ORDERS = 24
POD_COMMENTS = ("love this!!", "so good 🔥🔥", "amazing content", "yesss", "obsessed", "queen 👑")


def choose(rng: random.Random, creators: int) -> tuple[dict[int, list[str]], dict[int, list[int]], list[int]]:
    """Each kind on creators of its own, at least one of each (pods: one pod at least): the kinds of
    each chosen creator, each pod member's pod, and the rest of the shuffled pool."""
    pool = list(range(creators))
    rng.shuffle(pool)
    per_kind = max(1, round(creators * FRAUD_SHARE))
    chosen: dict[str, list[int]] = {}
    for kind in CREATOR_KINDS:
        count = max(POD_SIZE, per_kind - per_kind % POD_SIZE) if kind == "engagement_pod" else per_kind
        chosen[kind], pool = pool[:count], pool[count:]
    kinds_of: dict[int, list[str]] = {}
    for kind, members in chosen.items():
        for i in members:
            kinds_of.setdefault(i, []).append(kind)
    pods = {i: chosen["engagement_pod"][at:at + POD_SIZE]
            for at in range(0, len(chosen["engagement_pod"]), POD_SIZE) for i in chosen["engagement_pod"][at:at + POD_SIZE]}
    return kinds_of, pods, pool


def buy_followers(rng: random.Random, creator: Creator) -> None:
    """One day of the series jumps 10-25 %, with no giveaway, collaboration or viral post near it."""
    account = creator.line["accounts"][0]
    points = creator.line["follower_points"] + [{"observed_at": account["observed_at"], "followers": account["followers"]}]
    day = rng.randint(20, SERIES_DAYS - 10)
    bought = int(points[day]["followers"] * rng.uniform(0.10, 0.25))
    for point in points[day:]:
        point["followers"] += bought
    account["followers"] = points[-1]["followers"]
    creator.line["follower_points"] = points[:-1]


def fake_audience(rng: random.Random, creator: Creator) -> None:
    """The creator's whole follower sample is made anew of mass-following empty profiles."""
    creator.sample = [fake_follower(rng, f"{creator.handle}.f{n}") for n in range(SAMPLE_SIZE)]


def pod_comments(rng: random.Random, creator: Creator, others: list[Creator]) -> None:
    """The other members' own accounts comment on each of the creator's posts within minutes of it."""
    for post in creator.line["posts"]:
        posted = datetime.fromisoformat(post["posted_at"])
        for other in others:
            creator.comments.append({"platform": creator.platform, "post_external_id": post["external_id"],
                                     "author": other.handle, "text": rng.choice(POD_COMMENTS),
                                     "commented_at": (posted + timedelta(minutes=rng.randint(1, 9))).isoformat()})


def undisclosed(rng: random.Random, creator: Creator, brand: Brand) -> None:
    code = f"{creator.handle.split('.')[0].upper()}15"
    for post in creator.line["posts"][-2:]:
        post["caption"] = (f"Obsessed with the new serum from @{brand.handle} - use my code {code} for 15% off, "
                           f"link in bio {rng.choice(('✨', '💛', '🙌'))}")
