"""The creator generator of the benchmark index (bench/discovery_index.py): rows for discovery's
five tables, in the shapes its COPY takes. What a creator looks like, and the sources of its
figures, are in discovery_index.py's docstring and bench/discovery_vocab.py."""

import json
import math
import random
import uuid
from datetime import datetime, timedelta

import numpy as np

from bench.discovery_vocab import (
    ADJECTIVES, AGE_BANDS, BRANDS, COUNTRIES, COUNTRY_LANGUAGE, DELIVERABLES, ER_CURVES, NEIGHBOURS, NICHE_WEIGHTS,
    NICHES, PLATFORM_WEIGHTS, PLATFORMS, POST_TYPES,
)
from services.discovery.creator import text

DIM = 384
TOPICS_PER_NICHE = 40
TABLES = ("creators", "accounts", "follower_points", "posts", "creator_sales")
ER_FORMULA = "(avg_likes + avg_comments) / followers"
VIDEO_TYPES = {"reel", "video", "short", "live", "story"}
FIRST_NAMES = ("Alex Sam Maria Lena Jonas Emma Noah Mia Luca Sofia Leo Chloe Hugo Ines Mateo Lucia Ava Liam "
               "Aria Omar Priya Arjun Yuki Ana Pedro Julia Max Nora Finn Zoe").split()

CREATOR_COLUMNS = (
    "id", "platform", "handle", "follower_count", "engagement_rate", "growth_30d", "growth_90d", "platforms",
    "followers_total", "display_name", "bio", "niches", "languages", "country", "city", "contact", "contactable",
    "price_estimates", "last_posted_at", "audience_countries", "audience_ages", "audience_genders",
    "audience_languages", "audience_interests", "audience_estimated_at", "audience_source", "audit_id",
    "audit_status", "audit_score", "audit_grade", "audit_audience_quality", "audit_flags", "audit_updated_at",
    "audit_sequence", "text_config", "embedding", "embedding_text_hash", "embedding_stale", "embedded_at",
    "created_at", "updated_at",
)
ACCOUNT_COLUMNS = (
    "id", "creator_id", "platform", "handle", "url", "followers", "following", "posts_count", "avg_likes",
    "avg_comments", "avg_views", "engagement_rate", "engagement_formula", "metrics_at", "created_at", "updated_at",
)
POINT_COLUMNS = ("account_id", "observed_at", "followers")
POST_COLUMNS = (
    "id", "creator_id", "account_id", "platform", "external_id", "url", "posted_at", "type", "caption", "hashtags",
    "mentions", "likes", "comments", "views", "paid_partnership", "sponsored", "created_at", "updated_at",
)
SALES_COLUMNS = ("creator_id", "currency", "clicks", "orders", "revenue_minor", "commission_minor", "as_of")


def centroids(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit centroids per niche and per topic (TOPICS_PER_NICHE per niche), the same for every chunk."""
    rng = np.random.default_rng([seed, 0xC0FFEE])
    niche = _unit(rng.standard_normal((len(NICHES), DIM)))
    noise = _unit(rng.standard_normal((len(NICHES), TOPICS_PER_NICHE, DIM)))
    topics = _unit(niche[:, None, :] + 0.8 * noise)
    return niche, topics


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def _er(platform: str, followers: float) -> float:
    curve = ER_CURVES[platform]
    return float(np.interp(math.log10(max(followers, 1)), [x for x, _ in curve], [y for _, y in curve]))


def _shares(keys: list[str], weights) -> dict[str, float]:
    """{key: share} rounded down to 4 decimals, so the shares never add up to more than 1."""
    out: dict[str, float] = {}
    for key, w in zip(keys, weights, strict=True):
        share = math.floor(w * 10_000) / 10_000
        if share > 0:
            out[key] = round(out.get(key, 0.0) + share, 4)
    return out


def _grade(score: float) -> str:
    return "A" if score >= 85 else "B" if score >= 70 else "C" if score >= 55 else "D" if score >= 40 else "F"


def generate(first: int, count: int, seed: int, now: datetime, prefix: str = "c") -> dict[str, list[tuple]]:
    """Rows of `count` creators numbered from `first`, per table; deterministic for (seed, first)."""
    rng = np.random.default_rng([seed, first])
    rnd = random.Random(seed * 1_000_003 + first)
    niche_c, topic_c = centroids(seed)
    # -- numbers, vectorised ------------------------------------------------------------------
    u = rng.random(count)
    followers = 1000 * (1 - u) ** (-1 / 0.7)
    followers = np.where(followers > 5e6, 5e6 * (followers / 5e6) ** 0.5, followers).astype(np.int64)
    niche_p = np.array(NICHE_WEIGHTS, float) / sum(NICHE_WEIGHTS)
    niche = rng.choice(len(NICHES), count, p=niche_p)
    second = np.where(rng.random(count) < 0.33, rng.choice(len(NICHES), count, p=niche_p), -1)
    second = np.where(second == niche, -1, second)
    country_p = np.array([c[1] for c in COUNTRIES], float)
    country = rng.choice(len(COUNTRIES), count, p=country_p / country_p.sum())
    platform = rng.choice(len(PLATFORMS), count, p=np.array(PLATFORM_WEIGHTS) / sum(PLATFORM_WEIGHTS))
    n_accounts = rng.choice([1, 2, 3], count, p=[0.70, 0.22, 0.08])
    er_noise = rng.lognormal(0, 0.45, count)
    tier_mu = np.select([followers < 1e4, followers < 1e5, followers < 5e5, followers < 1e6], [0.05, 0.04, 0.03, 0.02], 0.015)
    g90 = rng.normal(tier_mu, 0.06)
    g90 = np.where(rng.random(count) < 0.03, rng.uniform(0.3, 1.0, count), g90)  # sudden jumps
    g90 = np.clip(g90, -0.5, 5)
    g30 = np.clip(g90 * rng.uniform(0.2, 0.5, count) + rng.normal(0, 0.01, count), -0.5, 5)
    topic = rng.integers(0, TOPICS_PER_NICHE, count)
    vec = topic_c[niche, topic] + 0.75 * _unit(rng.standard_normal((count, DIM)))
    vec += np.where(second[:, None] >= 0, 0.45 * niche_c[np.maximum(second, 0)], 0)
    vec = _unit(vec).astype(np.float32)
    audited = (rng.random(count) < 0.85).tolist()
    score = np.clip(rng.normal(72, 13, count) - 25 * (g90 > 0.3), 5, 99).tolist()
    # Dirichlet draws for every creator at once (normalised gammas).
    age_alpha = np.array([NICHES[k][4] for k in range(len(NICHES))])[niche] * 40
    age_w = rng.gamma(age_alpha)
    age_w = (age_w / age_w.sum(axis=1, keepdims=True)).tolist()
    near_w = rng.gamma(1.5, size=(count, 5))
    near_w = (near_w / near_w.sum(axis=1, keepdims=True)).tolist()
    interest_w = rng.gamma(np.array([6.0, 3.0, 1.0, 1.0]), size=(count, 4))
    interest_w = (interest_w / interest_w.sum(axis=1, keepdims=True)).tolist()
    ids = rng.bytes(16 * count * 10)
    followers, niche, second, country, platform, n_accounts = (
        a.tolist() for a in (followers, niche, second, country, platform, n_accounts))
    er_noise, g90, g30 = er_noise.tolist(), g90.tolist(), g30.tolist()
    next_id = 0

    def new_id() -> uuid.UUID:
        nonlocal next_id
        next_id += 1
        return uuid.UUID(bytes=ids[16 * (next_id - 1): 16 * next_id], version=4)

    creators, accounts, points, posts, sales = [], [], [], [], []
    for i in range(count):
        n = first + i
        cid = new_id()
        code, _, langs, cities, currency, filler = COUNTRIES[country[i]]
        languages = [langs[0]] + ([x for x in langs[1:] if rnd.random() < 0.3])
        nname, words, tags, female, ages = NICHES[niche[i]]
        niches = [nname] + ([NICHES[second[i]][0]] if second[i] >= 0 else [])
        words2 = NICHES[second[i]][1] if second[i] >= 0 else words
        handle = f"{prefix}{rnd.choice(ADJECTIVES)}{rnd.choice(words).replace('-', '')}{n}"
        # -- accounts: the primary one is the largest ---------------------------------------
        main_platform = PLATFORMS[platform[i]]
        plats = [main_platform] + rnd.sample([p for p in PLATFORMS if p != main_platform], n_accounts[i] - 1)
        sizes = [int(followers[i])] + [max(100, int(followers[i] * rnd.uniform(0.05, 0.8))) for _ in plats[1:]]
        acc_ids = [new_id() for _ in plats]
        ers = [_er(p, f) * er_noise[i] * rnd.uniform(0.8, 1.2) for p, f in zip(plats, sizes, strict=True)]
        ers[0] = _er(main_platform, sizes[0]) * er_noise[i]
        for k, (p, f, aid, er) in enumerate(zip(plats, sizes, acc_ids, ers, strict=True)):
            eng = f * er
            video = POST_TYPES[p][0] in VIDEO_TYPES
            accounts.append((
                aid, cid, p, handle, f"https://{p}.example/{handle}", f, int(rnd.lognormvariate(6.3, 0.9)),
                int(rnd.lognormvariate(5.5, 1.0)), eng * 0.93, eng * 0.07,
                f * rnd.uniform(0.2, 1.5) if video else None, er, ER_FORMULA, now, now, now,
            ))
            g_90, g_30 = (g90[i], g30[i]) if k == 0 else (g90[i] * 0.7, g30[i] * 0.7)
            series = [(90, f / (1 + g_90)), (60, (f / (1 + g_90) + f / (1 + g_30)) / 2), (30, f / (1 + g_30)), (0, f)]
            for days, value in series if k == 0 else series[2:]:
                points.append((aid, now - timedelta(days=days), int(value)))
        # -- posts of the primary account ----------------------------------------------------
        last = now - timedelta(days=rnd.expovariate(1 / 4) if rnd.random() > 0.1 else rnd.uniform(45, 400))
        at, captions = last, []
        eng = sizes[0] * ers[0]
        for k in range(rnd.randint(4, 6)):
            body = rnd.choices(words, k=4) + rnd.choices(words2, k=2) + rnd.choices(filler, k=3)
            tagset = rnd.choices(tags, k=2 + (rnd.random() < 0.5))
            mention = rnd.choice(BRANDS) if rnd.random() < 0.2 else None
            label = mention is not None and rnd.random() < 0.4
            disclosed = label and rnd.random() < 0.6
            caption = " ".join(body).capitalize()
            if mention:
                caption = ("#ad " if disclosed else "") + caption + f" with @{mention}"
            caption += " " + " ".join(f"#{t}" for t in tagset)
            hashtags = text.hashtags(caption)
            ptype = rnd.choice(POST_TYPES[main_platform])
            captions.append(caption)
            posts.append((
                new_id(), cid, acc_ids[0], main_platform, f"{n}-{k}", None, at, ptype,
                caption, hashtags, [mention] if mention else [], int(eng * 0.93 * rnd.lognormvariate(0, 0.35)),
                int(eng * 0.07 * rnd.lognormvariate(0, 0.5)),
                int(sizes[0] * rnd.lognormvariate(-0.5, 0.6)) if ptype in VIDEO_TYPES else None,
                label and not disclosed, text.is_sponsored(label and not disclosed, hashtags, caption), now, now,
            ))
            at -= timedelta(days=rnd.uniform(1, 10))
        bio = " ".join([*rnd.choices(filler, k=2), *rnd.choices(words, k=4), *rnd.choices(words2, k=2)]).capitalize()
        bio += f" | {cities[0] if rnd.random() < 0.3 else rnd.choice(cities)} | " + " ".join(f"#{t}" for t in tags[:2])
        # -- audience -------------------------------------------------------------------------
        own = rnd.uniform(0.35, 0.85)
        near = NEIGHBOURS[code]
        countries = _shares([code, *near], [own, *((1 - own) * 0.9 * w for w in near_w[i])])
        age = _shares(AGE_BANDS, age_w[i])
        f_share = min(max(female + rnd.gauss(0, 0.08), 0.02), 0.97)
        genders = _shares(["female", "male", "other"], [f_share, 0.99 - f_share, 0.01])
        lang: dict[str, float] = {}
        for key, share in countries.items():
            lang[COUNTRY_LANGUAGE.get(key, "en")] = lang.get(COUNTRY_LANGUAGE.get(key, "en"), 0) + share
        others = [NICHES[rnd.randrange(len(NICHES))][0] for _ in range(2)]
        interests = _shares(niches + others, interest_w[i][: len(niches) + 2])
        # -- the rest of the person -----------------------------------------------------------------
        contactable = rnd.random() < 0.45 + 0.1 * math.log10(max(sizes[0], 1000) / 1000)
        prices = [
            {"platform": main_platform, "deliverable": d, "currency": currency,
             "amount": f"{max(25.0, sizes[0] / 1000 * per_k * rnd.lognormvariate(0, 0.3)):.2f}"}
            for d, per_k in DELIVERABLES[main_platform]
        ]
        audit = audited[i]
        s = round(score[i], 1)
        flags = (["follower_spike"] if g90[i] > 0.3 else []) + (["low_engagement"] if ers[0] < 0.005 else [])
        creators.append((
            cid, main_platform, handle, sizes[0], ers[0], g30[i], g90[i], sorted(set(plats)), sum(sizes),
            f"{rnd.choice(FIRST_NAMES)} {handle[len(prefix):len(prefix) + 1].upper()}.", bio, niches, languages,
            code, rnd.choice(cities), json.dumps({"email": f"{handle}@example.com"} if contactable else {}),
            contactable, json.dumps(prices), last, json.dumps(countries), json.dumps(age), json.dumps(genders),
            json.dumps(_shares(list(lang), list(lang.values()))), json.dumps(interests), now - timedelta(days=rnd.uniform(1, 60)),
            "bench-generator", uuid.uuid4() if audit else None, "completed" if audit else None, s if audit else None,
            _grade(s) if audit else None, min(max(s / 100 + rnd.gauss(0, 0.05), 0.1), 0.99) if audit else None,
            flags if audit else [], now - timedelta(days=rnd.uniform(0, 30)) if audit else None, 1 if audit else None,
            text.text_config_for(languages), vec[i],
            text.text_hash(text.embedding_text(bio, niches, captions)), False, now, now, now,
            text.captions_text(captions),
        ))
        if rnd.random() < 0.03:
            clicks = int(rnd.lognormvariate(7, 1.2))
            orders = int(clicks * rnd.uniform(0.005, 0.05))
            revenue = int(orders * rnd.lognormvariate(8.3, 0.4))
            sales.append((cid, currency, clicks, orders, revenue, revenue // 10, now))
    return {"creators": creators, "accounts": accounts, "follower_points": points, "posts": posts, "creator_sales": sales}
