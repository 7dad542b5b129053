"""The demo world `limelight seed` loads: made here, all of it, from the seed.

Pure: no I/O, no clock. The decisions about the whole world (who is fraudulent and how, the
brands, campaigns, clicks and orders) come from one `random.Random(seed)`; each creator is made
on demand from a generator of its own (seed and index), so `World.creators` is a sequence that
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
  - `fake_audience`: 85 % of the sampled followers are mass-following empty profiles;
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

import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

PLATFORMS = (("instagram", 45), ("tiktok", 25), ("youtube", 12), ("x", 5), ("twitch", 4), ("facebook", 3),
             ("pinterest", 3), ("snapchat", 2), ("linkedin", 1))
# Reference engagement rate (percent) by platform and tier: audit's engagement-v1.csv, where one is
# published; 1.5 % elsewhere (audit judges no peers there).
ER_REFERENCE = {
    "instagram": {"nano": 4.26, "micro": 1.62, "mid": 1.55, "macro": 1.55, "mega": 1.54},
    "tiktok": {"nano": 7.5, "micro": 7.5, "mid": 4.65, "macro": 4.65, "mega": 3.5},
    "youtube": {"nano": 1.6, "micro": 1.6, "mid": 1.6, "macro": 1.6, "mega": 1.6},
}
POST_TYPES = {"instagram": ("photo", "reel", "carousel"), "tiktok": ("short",), "youtube": ("video", "short"),
              "x": ("text", "photo"), "twitch": ("live", "video"), "facebook": ("photo", "video"),
              "pinterest": ("photo",), "snapchat": ("story",), "linkedin": ("text",)}
PLACES = (  # country, share, language, cities
    ("US", 30, "en", ("New York", "Los Angeles", "Austin", "Chicago")),
    ("GB", 12, "en", ("London", "Manchester", "Bristol")),
    ("DE", 12, "de", ("Berlin", "Munich", "Hamburg")),
    ("FR", 9, "fr", ("Paris", "Lyon", "Marseille")),
    ("ES", 8, "es", ("Madrid", "Barcelona", "Valencia")),
    ("BR", 7, "pt", ("São Paulo", "Rio de Janeiro")),
    ("IT", 6, "it", ("Milan", "Rome")),
    ("NL", 4, "nl", ("Amsterdam", "Utrecht")),
    ("CA", 6, "en", ("Toronto", "Vancouver")),
    ("AU", 6, "en", ("Sydney", "Melbourne")),
)
NICHES = {
    "beauty": ("serum", "skincare routine", "glow", "lipstick", "sunscreen", "retinol", "makeup look"),
    "fitness": ("leg day", "protein", "mobility", "running", "kettlebell", "personal best", "stretching"),
    "food": ("sourdough", "vegan baking", "meal prep", "ramen", "street food", "brunch", "cake"),
    "travel": ("hidden beaches", "train journeys", "backpacking", "city guide", "sunrise hike", "road trip"),
    "gaming": ("speedrun", "boss fight", "patch notes", "co-op", "retro console", "ranked"),
    "fashion": ("capsule wardrobe", "thrifted", "street style", "denim", "outfit", "sneakers"),
    "tech": ("mechanical keyboard", "desk setup", "smartphone review", "home lab", "camera test"),
    "parenting": ("toddler", "school lunch", "bedtime routine", "family trip", "busy parents"),
    "outdoors": ("trail running", "wild camping", "climbing", "kayak", "mountain hut", "gear list"),
    "finance": ("budgeting", "index funds", "side hustle", "saving tips", "first home"),
}
FIRST = ("ana", "leo", "maya", "noah", "zoe", "ivan", "lina", "omar", "sara", "theo", "yuki", "ella", "finn",
         "jade", "luca", "mila", "nora", "otto", "rosa", "sam", "tara", "vera", "will", "aiko", "ben", "cleo")
FANS = ("sun", "wave", "pixel", "maple", "river", "cloud", "fern", "amber", "echo", "nova", "sage", "birch")
# A fan's comment: an opener, a remark on the post's topic and a closer, so that two fans rarely
# write the same words (audit flags text repeated across posts or creators).
OPENERS = ("ok", "honestly", "wait", "omg", "hey", "so", "right", "haha", "ooh", "yes", "hmm", "love that", "agreed",
           "same here", "finally", "wow ok", "lol", "ahh", "oh nice", "real talk")
REMARKS = (
    "where did you get the {w}", "trying the {w} this weekend", "how long did the {w} take you",
    "your {w} tips changed my week", "is the {w} good for beginners", "saving this {w} for later",
    "the {w} part was so good", "can you do a longer one on {w}", "my sister needs this {w} idea",
    "first time seeing {w} done like this", "been looking for {w} advice all {d}", "tried your {w} on {d}",
    "the {w} bit made me laugh", "need a {w} update next {d}",
)
CLOSERS = ("thanks!", "🙏", "can't wait", "more please", "!!", "so helpful", "great tip", "😂", "noted",
           "from {c}", "greetings from {c}", "💚", "⭐", "bookmarked", "you're the best", "")
TALLIES = ("watched it {n} times", "day {n} of trying this", "{n} minutes well spent", "my {n}th attempt",
           "{n} of us at work love this", "tried it {n} days in a row")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "week", "month", "year")
COMMENT_PLACES = ("lisbon", "denver", "leeds", "cologne", "nantes", "seville", "porto", "turin", "rotterdam",
                  "calgary", "perth", "osaka", "krakow", "dublin", "austin", "quebec")
# Stock phrases real fans write too; under three words, as audit counts a repeated text only from three.
GENERIC_COMMENTS = ("love this", "great post!", "nice", "wow", "amazing 😍", "so cool", "🔥🔥")
POD_COMMENTS = ("love this!!", "so good 🔥🔥", "amazing content", "yesss", "obsessed", "queen 👑")
BROWSER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
)
BOT_AGENTS = ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Twitterbot/1.0",
              "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
              "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")

CREATOR_KINDS = ("bought_followers", "fake_audience", "engagement_pod", "undisclosed_sponsored")
ORDER_KINDS = ("self_referral", "leaked_code")
FRAUD_SHARE = 0.03  # of creators, per creator kind
POD_SIZE = 5
POSTS = 8
SERIES_DAYS = 60
SAMPLE_SIZE = 40
LEAKED_ORDERS = 24
PERCENT = 10  # every campaign's commission rule
HOLDING_DAYS = 30


@dataclass
class Creator:
    key: str  # "platform:handle" of the primary account: how the loader finds its id
    platform: str
    handle: str
    line: dict  # the discovery bulk line
    sample: list[dict]  # follower profiles for POST /v1/audit/followers/bulk (creator_id added by the loader)
    comments: list[dict]  # for POST /v1/audit/comments/bulk
    kinds: list[str] = field(default_factory=list)
    tier: str = ""


@dataclass
class Order:
    brand: int
    campaign: int
    number: int  # the shop's order id
    creator: str  # creator key credited (expected)
    by: str  # "code" or "click"
    email: str
    quantity: int
    unit_price: int  # minor units
    unit_discount: int
    refunded_units: int = 0
    cancelled: bool = False
    updated: bool = False
    kind: str | None = None  # a fraud kind of ORDER_KINDS, or None
    click: int | None = None  # index into World.clicks when by == "click"
    country: str = "US"

    @property
    def basis(self) -> int:
        return 0 if self.cancelled else (self.quantity - self.refunded_units) * (self.unit_price - self.unit_discount)

    @property
    def commission(self) -> int:
        """What the ledger must hold for it: 10 % of what is left of its basis (amounts chosen so it is exact)."""
        return self.basis * PERCENT // 100

    @property
    def earned(self) -> int:
        """The commission first written, before any clawback."""
        return self.quantity * (self.unit_price - self.unit_discount) * PERCENT // 100


@dataclass
class Click:
    brand: int
    campaign: int
    creator: str
    visitor: str  # source address on the loopback network
    agent: str
    bot: bool


@dataclass
class Campaign:
    name: str
    creators: list[str]
    codes: dict[str, str]  # creator key → code
    leaked: str | None = None  # creator key whose code leaks


@dataclass
class Brand:
    name: str
    handle: str
    currency: str
    shop_domain: str
    campaigns: list[Campaign]
    customer_keys: dict[str, str] = field(default_factory=dict)  # creator key → the creator's own e-mail


class Creators(Sequence):
    """The world's creators, each made when asked for (and made again if asked again): creator i
    from `random.Random(f"{seed}:{i}")`, then its planted fraud from generators of its own."""

    def __init__(self, seed: int, count: int, tag: str, anchor: datetime, kinds: dict[int, list[str]],
                 pods: dict[int, list[int]], sponsor: Brand):
        self.seed, self.count, self.tag, self.anchor = seed, count, tag, anchor
        self.kinds_of, self.pods, self.sponsor = kinds, pods, sponsor

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(self.count))]
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(index)
        return self._make(index)

    def _rng(self, i: int, purpose: str = "") -> random.Random:
        return random.Random(f"{self.seed}:{i}{':' + purpose if purpose else ''}")

    def key(self, i: int) -> str:
        """Creator i's key, without making the rest of it."""
        platform, handle, *_ = _identity(self._rng(i), i, self.tag)
        return f"{platform}:{handle}"

    def platform(self, i: int) -> str:
        return _identity(self._rng(i), i, self.tag)[0]

    def _base(self, i: int) -> Creator:
        return _creator(self._rng(i), i, self.tag, self.anchor)

    def _make(self, i: int) -> Creator:
        creator = self._base(i)
        kinds = self.kinds_of.get(i, [])
        creator.kinds = list(kinds)
        if "bought_followers" in kinds:
            _buy_followers(self._rng(i, "bought"), creator)
        if "fake_audience" in kinds:
            rng = self._rng(i, "fake")
            creator.sample = [_fake_follower(rng, f"{creator.handle}.f{n}") for n in range(SAMPLE_SIZE)]
        if "engagement_pod" in kinds:
            others = [self._base(j) for j in self.pods[i] if j != i]
            _pod_comments(self._rng(i, "pod"), creator, others)
        if "undisclosed_sponsored" in kinds:
            _undisclosed(self._rng(i, "undisclosed"), creator, self.sponsor)
        return creator

    def indices_of(self, kind: str) -> list[int]:
        return sorted(i for i, kinds in self.kinds_of.items() if kind in kinds)


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


def _weighted(rng: random.Random, pairs) -> str:
    names, weights = zip(*pairs)
    return rng.choices(names, weights=weights)[0]


def tier_of(followers: int) -> str:
    return ("nano" if followers < 10_000 else "micro" if followers < 100_000 else "mid" if followers < 500_000
            else "macro" if followers < 1_000_000 else "mega")


def _shares(rng: random.Random, names, main: str | None, main_share: float) -> dict[str, float]:
    """A distribution over `names` (rounded down to 4 places, so it never sums above 1)."""
    weights = {n: rng.uniform(0.2, 1.0) for n in names if n != main}
    rest = 1 - (main_share if main else 0)
    total = sum(weights.values())
    out = {n: math.floor(w / total * rest * 10_000) / 10_000 for n, w in weights.items()}
    if main:
        out[main] = math.floor(main_share * 10_000) / 10_000
    return out


def build(seed: int, creators: int, anchor: datetime | None = None) -> World:
    if creators < 20:
        raise ValueError("a world needs at least 20 creators (one of each fraud kind, and clean ones)")
    rng = random.Random(seed)
    anchor = anchor or datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    tag = f"{seed:x}"

    # Fraud: each kind on creators of its own, at least one of each (pods: one pod at least).
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


def _identity(rng: random.Random, i: int, tag: str):
    """The first draws of creator i: platform, handle, and what the handle is made of."""
    platform = _weighted(rng, PLATFORMS)
    country, _, language, cities = rng.choices(PLACES, weights=[p[1] for p in PLACES])[0]
    niches = rng.sample(sorted(NICHES), rng.choice((1, 1, 2)))
    name = rng.choice(FIRST)
    return platform, f"{name}.{niches[0]}.{tag}.{i}", name, niches, country, language, cities


def _creator(rng: random.Random, i: int, tag: str, anchor: datetime) -> Creator:
    platform, handle, name, niches, country, language, cities = _identity(rng, i, tag)
    followers = min(8_000_000, int(1500 * (1 - rng.random()) ** (-1 / 0.9)))
    tier = tier_of(followers)
    rate = ER_REFERENCE.get(platform, {}).get(tier, 1.5) / 100 * math.exp(rng.gauss(0, 0.25))
    series = _series(rng, followers, anchor)
    words = [w for n in niches for w in NICHES[n]]
    posts = []
    for n in range(POSTS):
        posted = anchor - timedelta(days=SERIES_DAYS - 4 - n * 7, hours=rng.randint(7, 21), minutes=rng.randint(0, 59))
        likes = max(1, int(followers * rate * math.exp(rng.gauss(0, 0.35))))
        topic = rng.choice(words)
        caption = f"{rng.choice(('New', 'Today', 'Weekend', 'Quick'))} {topic} {rng.choice(('notes', 'diary', 'tips', 'update'))}: " \
                  f"{rng.choice(('what worked', 'what I learned', 'my honest take', 'step by step'))} " \
                  f"#{niches[0]} #{topic.replace(' ', '').replace('-', '')}"
        posts.append({"external_id": f"{tag}{i}p{n}", "posted_at": posted.isoformat(), "type": rng.choice(POST_TYPES[platform]),
                      "caption": caption, "likes": likes, "comments": max(1, likes // rng.randint(20, 60)),
                      "views": likes * rng.randint(8, 30) if platform in ("tiktok", "youtube") else None,
                      "paid_partnership": False})
    line = {
        "accounts": [{"platform": platform, "handle": handle, "followers": series[-1][1],
                      "following": rng.randint(150, 1500), "posts_count": rng.randint(60, 2500),
                      "observed_at": series[-1][0]}],
        "display_name": f"{name.title()} {rng.choice(('Rivera', 'Okafor', 'Schmidt', 'Dubois', 'Rossi', 'Silva', 'Tanaka', 'Novak'))}",
        "bio": f"{', '.join(NICHES[niches[0]][:3]).capitalize()} | {rng.choice(cities)} | sharing {rng.choice(words)} every week",
        "niches": niches, "languages": [language] + (["en"] if language != "en" and rng.random() < 0.5 else []),
        "country": country, "city": rng.choice(cities),
        "contact": {"email": f"{handle.replace('.', '-')}@creators.example"} if rng.random() < 0.7 else None,
        "price_estimates": [{"platform": platform, "deliverable": "post",
                             "amount": f"{max(50, followers // 100 * rng.randint(8, 14) // 10)}.00", "currency": "USD"}],
        "posts": posts,
        "follower_points": [{"observed_at": at, "followers": count} for at, count in series[:-1]],
        "audience": {
            "estimated_at": anchor.isoformat(), "source": "limelight seed",
            "countries": _shares(rng, [p[0] for p in PLACES], country, rng.uniform(0.45, 0.75)),
            "ages": _shares(rng, AGE_BANDS, rng.choice(("18-24", "25-34", "25-34", "35-44")), rng.uniform(0.35, 0.55)),
            "genders": _shares(rng, ("female", "male", "other"), rng.choice(("female", "male")), rng.uniform(0.5, 0.8)),
            "languages": _shares(rng, sorted({p[2] for p in PLACES}), language, rng.uniform(0.5, 0.8)),
            "interests": _shares(rng, sorted(NICHES), niches[0], rng.uniform(0.3, 0.6)),
        },
    }
    if line["contact"] is None:
        del line["contact"]
    creator = Creator(key=f"{platform}:{handle}", platform=platform, handle=handle, line=line, sample=[], comments=[], tier=tier)
    creator.sample = [_real_follower(rng, f"{handle[:12]}.r{n}") if rng.random() > 0.08 else _fake_follower(rng, f"{handle[:12]}.m{n}")
                      for n in range(SAMPLE_SIZE)]
    for post in posts:
        posted = datetime.fromisoformat(post["posted_at"])
        for _ in range(rng.randint(3, 6)):
            if rng.random() < 0.08:
                text = rng.choice(GENERIC_COMMENTS)
            else:
                remark = rng.choice(REMARKS).format(w=rng.choice(words), d=rng.choice(DAYS))
                closer = rng.choice(CLOSERS).format(c=rng.choice(COMMENT_PLACES).title())
                text = f"{rng.choice(OPENERS)} {remark} {closer}".strip()
                if rng.random() < 0.85:  # fans tag a friend
                    text += f" @{rng.choice(FIRST)}{rng.choice(FANS)}{rng.randint(1, 999)}"
                else:  # or say how it went for them
                    text += " " + rng.choice(TALLIES).format(n=rng.randint(2, 60))
            creator.comments.append({"platform": platform, "post_external_id": post["external_id"],
                                     "author": f"{rng.choice(FANS)}_{rng.choice(FIRST)}{rng.randint(1, 99_999)}",
                                     "text": text, "commented_at": (posted + timedelta(minutes=rng.randint(30, 2880))).isoformat()})
    return creator


def _series(rng: random.Random, followers: int, anchor: datetime) -> list[tuple[str, int]]:
    """Daily points over SERIES_DAYS ending at the anchor, growing 0.05-0.4 % a day with noise."""
    growth = rng.uniform(0.0005, 0.004)
    start = followers / (1 + growth) ** SERIES_DAYS
    points, count = [], start
    for day in range(SERIES_DAYS + 1):
        if day:
            count += count * growth * (1 + rng.gauss(0, 0.2))
        at = anchor - timedelta(days=SERIES_DAYS - day)
        points.append((at.isoformat(), int(count)))
    return points


def _buy_followers(rng: random.Random, creator: Creator) -> None:
    """One day of the series jumps 10-25 %, with no giveaway, collaboration or viral post near it."""
    account = creator.line["accounts"][0]
    points = creator.line["follower_points"] + [{"observed_at": account["observed_at"], "followers": account["followers"]}]
    day = rng.randint(20, SERIES_DAYS - 10)
    bought = int(points[day]["followers"] * rng.uniform(0.10, 0.25))
    for point in points[day:]:
        point["followers"] += bought
    account["followers"] = points[-1]["followers"]
    creator.line["follower_points"] = points[:-1]


def _pod_comments(rng: random.Random, creator: Creator, others: list[Creator]) -> None:
    """The other members' own accounts comment on each of the creator's posts within minutes of it."""
    for post in creator.line["posts"]:
        posted = datetime.fromisoformat(post["posted_at"])
        for other in others:
            creator.comments.append({"platform": creator.platform, "post_external_id": post["external_id"],
                                     "author": other.handle, "text": rng.choice(POD_COMMENTS),
                                     "commented_at": (posted + timedelta(minutes=rng.randint(1, 9))).isoformat()})


def _undisclosed(rng: random.Random, creator: Creator, brand: Brand) -> None:
    code = f"{creator.handle.split('.')[0].upper()}15"
    for post in creator.line["posts"][-2:]:
        post["caption"] = (f"Obsessed with the new serum from @{brand.handle} - use my code {code} for 15% off, "
                           f"link in bio {rng.choice(('✨', '💛', '🙌'))}")


def _real_follower(rng: random.Random, username: str) -> dict:
    return {"username": username, "full_name": f"{rng.choice(FIRST).title()} {rng.choice(FANS).title()}",
            "biography": rng.choice(("coffee and trains", "mum of two", "runner", "design student", "dog person", "")),
            "media_count": rng.randint(12, 600), "follower_count": rng.randint(60, 2500),
            "following_count": rng.randint(80, 900), "has_profile_pic": True, "is_private": rng.random() < 0.3,
            "is_verified": False, "external_url": None}


def _fake_follower(rng: random.Random, username: str) -> dict:
    return {"username": username, "full_name": None, "biography": None, "media_count": rng.randint(0, 2),
            "follower_count": rng.randint(0, 15), "following_count": rng.randint(1600, 7500),
            "has_profile_pic": False, "is_private": False, "is_verified": False, "external_url": None}
