"""The demo world `limelight seed` loads: planned here, all of it, from the seed.

Pure: no I/O, no clock. The decisions about the whole world (who is fraudulent and how, the
brands, campaigns, clicks and orders) come from one `random.Random(seed)`; each creator is made
on demand (creators.py) from a generator of its own (seed and index), so `World.creators` is a sequence that
holds no creator: a world of a million creators takes the memory of its fraud plan, not 60 GB. The same (seed, creators, anchor) gives the same world, byte for byte, so
the ground truth written beside a seed can be recomputed and a test can know every figure in
advance. Times are offsets from `anchor` (the seed's day, UTC midnight, by default): history
(posts, follower series, comments) lies before it; clicks and orders happen when the loader runs
and are planned here as counts and amounts only.

What is in it (docs/guide/demo-world.md has the same in prose):
- creators across nine platforms: power-law followers (Pareto, α 0.9 from 1,500), engagement
  around the published peer figure of their platform and tier (audit's engagement-v1.csv), bios
  and captions from niche vocabularies, 8 posts over 60 days, a daily follower series, audience
  demographics centred on their country, 40 sampled followers, comments on every post;
- fraud, each kind on its own creators, recorded in `truth`:
  - `bought_followers`: an unexplained jump of 10-25 % in one day of the follower series;
  - `fake_audience`: every sampled follower is a mass-following empty profile;
  - `engagement_pod`: groups of 5 creators whose own accounts comment on each other's posts within
    minutes of publication;
  - `undisclosed_sponsored`: two posts name a brand and a discount code with no disclosure;
- two brands (USD and EUR), each with two campaigns, enrolled creators, a 10 % commission rule,
  a code and a tracked link per creator;
- clicks from visitors on distinct loopback networks (127.a.b.c: one /24 per visitor), some from
  bots and link-preview fetchers (`bot_click`);
- orders signed as Shopify signs them, by code or by click, some updated, refunded or cancelled,
  with their expected commission in minor units; and affiliate fraud: `self_referral` (the
  creator's own e-mail, registered by the brand), `leaked_code` (a code redeemed 24 times with no
  click from its creator).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from runtime.seed.creators import Creators
from runtime.seed.fraud import CREATOR_KINDS, LEAKED_ORDERS, ORDER_KINDS, choose
from runtime.seed.model import Brand, Campaign, Click, Order

BROWSER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
)
BOT_AGENTS = ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Twitterbot/1.0",
              "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
              "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")


@dataclass
class World:
    seed: int
    anchor: datetime
    creators: Creators
    brands: list[Brand]
    clicks: list[Click]
    orders: list[Order]

    def truth(self) -> dict:
        """The ground truth written beside the seed: who is fraudulent and how, and the money expected."""
        made = self.creators
        kinds = {kind: sorted(made.key(i) for i in made.indices_of(kind)) for kind in CREATOR_KINDS}
        clean = sorted(made.key(i) for i in range(len(made)) if i not in made.kinds_of)
        orders = [
            {**{k: v for k, v in asdict(o).items()}, "basis": o.basis, "commission": o.commission, "earned": o.earned,
             "currency": self.brands[o.brand].currency}
            for o in self.orders
        ]
        return {
            "seed": self.seed, "anchor": self.anchor.isoformat(), "creators": len(self.creators),
            "creator_fraud": kinds, "clean_creators": clean,
            "order_fraud": {kind: [o.number for o in self.orders if o.kind == kind] for kind in ORDER_KINDS},
            "bot_clicks": sum(c.bot for c in self.clicks), "human_clicks": sum(not c.bot for c in self.clicks),
            "bot_clicks_by_campaign": [[sum(1 for k in self.clicks if (k.brand, k.campaign, k.bot) == (b, c, True))
                                        for c in range(len(brand.campaigns))] for b, brand in enumerate(self.brands)],
            "human_clicks_by_campaign": [[sum(1 for k in self.clicks if (k.brand, k.campaign, k.bot) == (b, c, False))
                                          for c in range(len(brand.campaigns))] for b, brand in enumerate(self.brands)],
            "brands": [{"name": b.name, "currency": b.currency,
                        "campaigns": [{"name": c.name, "creators": c.creators, "leaked": c.leaked} for c in b.campaigns]}
                       for b in self.brands],
            "orders": orders,
        }


def build(seed: int, creators: int, anchor: datetime | None = None) -> World:
    if creators < 20:
        raise ValueError("a world needs at least 20 creators (one of each fraud kind, and clean ones)")
    rng = random.Random(seed)
    anchor = anchor or datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    tag = f"{seed:x}"

    # Fraud: each kind on creators of its own, at least one of each (pods: one pod at least).
    kinds_of, pods, pool = choose(rng, creators)
    brands = _brands(rng, tag)
    people = Creators(seed, creators, tag, anchor, kinds_of, pods, brands[0])

    # Campaigns enrol clean creators of three platforms, drawn from a few hundred of the (shuffled)
    # pool: a million-creator world does not make every creator to choose a few dozen.
    per_campaign = max(3, min(25, creators // 40))
    campaigns_creators = [p for p in pool[:max(400, 40 * per_campaign)] if people.platform(p) in ("instagram", "tiktok", "youtube")]
    clicks: list[Click] = []
    orders: list[Order] = []
    number = 5_000_000 + seed % 1000 * 10_000
    visitor = 0
    for b, brand in enumerate(brands):
        for c, name in enumerate((f"{brand.name} launch", f"{brand.name} holiday")):
            picked = rng.sample(campaigns_creators, per_campaign)
            keys = [people.key(p) for p in picked]
            codes = {k: f"{k.split(':', 1)[1].split('.')[0][:8].upper()}{tag.upper()}{b}{c}{n}" for n, (k, p) in enumerate(zip(keys, picked))}
            campaign = Campaign(name=name, creators=keys, codes=codes)
            brand.campaigns.append(campaign)
            for k in keys:
                # Human clicks, each from a visitor on a /24 of its own; a third buy.
                for _ in range(rng.randint(1, 4)):
                    visitor += 1
                    clicks.append(Click(b, c, k, _address(visitor), rng.choice(BROWSER_AGENTS), bot=False))
                    if rng.random() < 0.35:
                        number += 1
                        orders.append(_order(rng, b, c, number, k, "click", len(clicks) - 1, brand))
                for _ in range(rng.randint(0, 3)):  # code orders: at most 3 a code (5 an hour is a leak's velocity)
                    number += 1
                    orders.append(_order(rng, b, c, number, k, "code", None, brand))
                if rng.random() < 0.3:  # a link preview or crawler fetches the link
                    visitor += 1
                    clicks.append(Click(b, c, k, _address(visitor), rng.choice(BOT_AGENTS), bot=True))
        # Affiliate fraud, on the brand's first campaign: a creator buying with their own e-mail
        # through their code; another's code posted on a coupon site.
        first = brand.campaigns[0]
        cheat = first.creators[0]
        brand.customer_keys[cheat] = f"{cheat.split(':')[1]}@creator-mail.example"
        for _ in range(2):
            number += 1
            order = _order(rng, b, 0, number, cheat, "code", None, brand, kind="self_referral")
            order.email = brand.customer_keys[cheat]
            order.refunded_units, order.cancelled = 0, False
            orders.append(order)
        first.leaked = first.creators[1]
        for _ in range(LEAKED_ORDERS):
            number += 1
            order = _order(rng, b, 0, number, first.leaked, "code", None, brand, kind="leaked_code")
            order.refunded_units, order.cancelled = 0, False
            orders.append(order)
    return World(seed=seed, anchor=anchor, creators=people, brands=brands, clicks=clicks, orders=orders)


def _address(n: int) -> str:
    # 127.a.b.c: the loopback network is a /8 on Linux, so each visitor gets a /24 of its own
    # (127.a.b), away from 127.0.0.x where everything else on the machine connects from.
    return f"127.{1 + n // 250 % 250}.{1 + n % 250}.{10 + n // 62_500 % 200}"


def _brands(rng: random.Random, tag: str) -> list[Brand]:
    return [
        Brand(name="Northwind Skincare", handle="northwindskin", currency="USD",
              shop_domain=f"northwind-{tag}.myshopify.com", campaigns=[]),
        Brand(name="Alpenglow Outdoor", handle="alpenglowgear", currency="EUR",
              shop_domain=f"alpenglow-{tag}.myshopify.com", campaigns=[]),
    ]


def _order(rng: random.Random, b: int, c: int, number: int, creator: str, by: str, click: int | None, brand: Brand,
           kind: str | None = None) -> Order:
    quantity = rng.randint(1, 3)
    price = rng.choice((20, 25, 30, 40, 45, 60, 80)) * 100
    discount = price // 1000 * 100 if by == "code" else 0  # 10 % off in whole units: the code's discount
    order = Order(brand=b, campaign=c, number=number, creator=creator, by=by, click=click,
                  email=f"shopper{number}@mail.example", quantity=quantity, unit_price=price, unit_discount=discount,
                  kind=kind, country="US" if brand.currency == "USD" else "DE")
    roll = rng.random()
    if roll < 0.08:
        order.cancelled = True
    elif roll < 0.2:
        order.refunded_units = rng.randint(1, quantity)
    order.updated = rng.random() < 0.2
    return order
