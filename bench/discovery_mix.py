"""What the discovery benchmark sends: the query mixes (filtered, full-text, brand-fit briefs) and
the NDJSON line of a generated creator for bulk ingest, drawn from bench/discovery_vocab.py.
bench/discovery_search.py measures them; bench/discovery_ingest.py sends ingest lines too."""

import json
import random

from bench import discovery_index as index
from bench.discovery_vocab import BRANDS, COUNTRIES, NICHES, PLATFORMS

TIERS = ["nano", "micro", "mid", "macro", "mega"]
NICHE_NAMES = [n[0] for n in NICHES]
COUNTRY_CODES = [c[0] for c in COUNTRIES]


def filter_mix(rnd: random.Random) -> dict:
    """One realistic filter set: what a brand manager combines (country, tier, niche, ER, audience)."""
    niche, country = rnd.choice(NICHE_NAMES), rnd.choices(COUNTRY_CODES, weights=[c[1] for c in COUNTRIES])[0]
    shape = rnd.randrange(8)
    if shape == 0:
        return {"country": [country], "tier": [rnd.choice(TIERS[:3])]}
    if shape == 1:
        return {"country": [country], "niche": [niche], "engagement_rate_min": rnd.choice([1, 2, 3])}
    if shape == 2:
        return {"niche": [niche], "tier": ["micro", "mid"], "audience_country": [f"{country}:30"]}
    if shape == 3:
        low = rnd.choice([5_000, 20_000, 50_000])
        return {"platform": [rnd.choice(PLATFORMS[:3])], "followers_min": low, "followers_max": low * 10,
                "language": [rnd.choice(["en", "de", "es", "fr", "pt"])]}
    if shape == 4:
        return {"country": [country], "niche": [niche], "audience_gender": ["female:60"], "audience_age": ["18-24:25"]}
    if shape == 5:
        return {"niche": [niche], "authenticity_min": 70, "contactable": True, "posted_within_days": 30}
    if shape == 6:
        return {"tier": ["micro"], "country": [country], "growth_30d_min": 5, "engagement_rate_min": 1.5}
    return {"niche": [niche], "engagement_rate_min": 1, "engagement_rate_max": 8, "audience_language": ["en:40"],
            "tier": ["mid", "macro", "mega"]}


def text_query(rnd: random.Random) -> tuple[str, dict]:
    """Words a brand types ('vegan protein recipe'), with 1-3 filters."""
    _, words, tags, *_ = rnd.choice(NICHES)
    q = " ".join(rnd.sample(words, rnd.choice([1, 2, 2, 3])) + ([rnd.choice(tags)] if rnd.random() < 0.3 else []))
    filters = filter_mix(rnd)
    keep = dict(rnd.sample(sorted(filters.items()), min(len(filters), rnd.randint(1, 3))))
    return q, keep


def brief(rnd: random.Random) -> dict:
    """A brand-fit brief; field names follow services/discovery/brandfit/schemas.py."""
    name, words, tags, female, _ = rnd.choice(NICHES)
    country = rnd.choice(COUNTRY_CODES[:8])
    low = rnd.choice([5_000, 10_000, 50_000])
    return {
        "niches": [name],
        "keywords": rnd.sample(words, 3),
        "description": f"{' '.join(rnd.sample(words, 4))} for {rnd.choice(['busy parents', 'students', 'beginners', 'families'])}",
        "audience": {"countries": [country], "ages": ["18-24", "25-34"], "genders": ["female"] if female > 0.6 else [],
                     "languages": []},
        "platforms": [rnd.choice(PLATFORMS[:3])],
        "followers_min": low,
        "followers_max": low * 20,
        "budget": {"amount": str(rnd.choice([250, 500, 1500])) + ".00", "currency": "EUR"},
        "competitors": rnd.sample(BRANDS, 2),
        "exclusions": {"keywords": ["gambling", "casino"], "categories": []} if rnd.random() < 0.5 else None,
        "limit": 20,
    }


def ingest_line(row: tuple, posts: list[tuple], accounts: list[tuple], points: list[tuple]) -> dict:
    """A generated creator in the single-write shape of POST /creators (one NDJSON line of bulk
    ingest): accounts with their figures, posts, the primary account's follower history, audience,
    price estimates and contact."""
    c = dict(zip(index.CREATOR_COLUMNS, row, strict=False))
    primary = accounts[0][0]
    line = {
        "display_name": c["display_name"], "bio": c["bio"], "niches": c["niches"], "languages": c["languages"],
        "country": c["country"], "city": c["city"], "price_estimates": json.loads(c["price_estimates"]),
        "accounts": [{"platform": a[2], "handle": a[3], "url": a[4], "followers": a[5], "following": a[6],
                      "posts_count": a[7], "avg_likes": round(a[8], 2), "avg_comments": round(a[9], 2),
                      "avg_views": None if a[10] is None else round(a[10], 2)} for a in accounts],
        "posts": [{"external_id": p[4], "posted_at": p[6].isoformat(), "type": p[7], "caption": p[8], "likes": p[11],
                   "comments": p[12], "views": p[13], "paid_partnership": p[14]} for p in posts],
        "follower_points": [{"observed_at": t.isoformat(), "followers": f} for a, t, f in points if a == primary][:-1],
        "audience": {"estimated_at": c["audience_estimated_at"].isoformat(), "source": c["audience_source"],
                     **{k: json.loads(c[f"audience_{k}"]) for k in ("countries", "ages", "genders", "languages", "interests")}},
    }
    if c["contactable"]:
        line["contact"] = json.loads(c["contact"])
    return line


# -- the run ------------------------------------------------------------------------------------
