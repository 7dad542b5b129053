"""One clean creator, made from a generator of its own: identity, a power-law follower count, a
daily follower series, posts with engagement around its platform's peers, audience demographics,
a sampled follower list and fans' comments. Fraud is planted on it afterwards (fraud.py)."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from runtime.seed.model import POSTS, SAMPLE_SIZE, SERIES_DAYS, Creator
from runtime.seed.vocabulary import (AGE_BANDS, CLOSERS, COMMENT_PLACES, DAYS, ER_REFERENCE, FANS, FIRST,
                                     GENERIC_COMMENTS, NICHES, OPENERS, PLACES, PLATFORMS, POST_TYPES, REMARKS,
                                     TALLIES)


def identity(rng: random.Random, i: int, tag: str):
    """The first draws of creator i: platform, handle, and what the handle is made of."""
    platform = _weighted(rng, PLATFORMS)
    country, _, language, cities = rng.choices(PLACES, weights=[p[1] for p in PLACES])[0]
    niches = rng.sample(sorted(NICHES), rng.choice((1, 1, 2)))
    name = rng.choice(FIRST)
    return platform, f"{name}.{niches[0]}.{tag}.{i}", name, niches, country, language, cities


def make_creator(rng: random.Random, i: int, tag: str, anchor: datetime) -> Creator:
    platform, handle, name, niches, country, language, cities = identity(rng, i, tag)
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
    creator.sample = [_real_follower(rng, f"{handle[:12]}.r{n}") if rng.random() > 0.08 else fake_follower(rng, f"{handle[:12]}.m{n}")
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


def _shares(rng: random.Random, names, main: str | None, main_share: float) -> dict[str, float]:
    """A distribution over `names` (rounded down to 4 places, so it never sums above 1)."""
    weights = {n: rng.uniform(0.2, 1.0) for n in names if n != main}
    rest = 1 - (main_share if main else 0)
    total = sum(weights.values())
    out = {n: math.floor(w / total * rest * 10_000) / 10_000 for n, w in weights.items()}
    if main:
        out[main] = math.floor(main_share * 10_000) / 10_000
    return out


def _weighted(rng: random.Random, pairs) -> str:
    names, weights = zip(*pairs)
    return rng.choices(names, weights=weights)[0]


def tier_of(followers: int) -> str:
    return ("nano" if followers < 10_000 else "micro" if followers < 100_000 else "mid" if followers < 500_000
            else "macro" if followers < 1_000_000 else "mega")


def _real_follower(rng: random.Random, username: str) -> dict:
    return {"username": username, "full_name": f"{rng.choice(FIRST).title()} {rng.choice(FANS).title()}",
            "biography": rng.choice(("coffee and trains", "mum of two", "runner", "design student", "dog person", "")),
            "media_count": rng.randint(12, 600), "follower_count": rng.randint(60, 2500),
            "following_count": rng.randint(80, 900), "has_profile_pic": True, "is_private": rng.random() < 0.3,
            "is_verified": False, "external_url": None}


def fake_follower(rng: random.Random, username: str) -> dict:
    return {"username": username, "full_name": None, "biography": None, "media_count": rng.randint(0, 2),
            "follower_count": rng.randint(0, 15), "following_count": rng.randint(1600, 7500),
            "has_profile_pic": False, "is_private": False, "is_verified": False, "external_url": None}
