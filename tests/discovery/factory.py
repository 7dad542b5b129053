"""Creators written straight into discovery's tables, for the tests of the read side (search,
lookalikes, brand fit, mentions) — so those tests do not depend on the ingest API they are not
about. Rows are written the way ingest writes them: the search document by the same SQL
(`text.DOCUMENT_SQL`), the tier by the generated column, the primary account mirrored on the
creator row. Ingest has its own tests through the gateway.

Every test shares one database: scope what you assert on to creators you made (a unique
niche, city or handle prefix per test), never to the whole index.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.discovery.creator import text
from tests.conftest import unique_handle


def _shares(d: dict[str, float] | None) -> str | None:
    return None if d is None else json.dumps(d)


async def insert_creator(
    db,
    *,
    platform: str = "instagram",
    handle: str | None = None,
    followers: int | None = 25_000,
    following: int | None = 500,
    engagement_rate: float | None = 0.03,
    growth_30d: float | None = None,
    growth_90d: float | None = None,
    extra_accounts: list[dict[str, Any]] = (),
    display_name: str | None = None,
    bio: str | None = None,
    niches: list[str] = (),
    languages: list[str] = ("en",),
    country: str | None = None,
    city: str | None = None,
    contact: dict | None = None,
    price_estimates: list[dict] = (),
    posts: list[dict[str, Any]] = (),
    audience: dict[str, dict[str, float]] | None = None,
    audit_score: float | None = None,
    audit_grade: str | None = None,
    embedding: list[float] | None = None,
) -> uuid.UUID:
    """One creator with its primary account (and `extra_accounts`), posts and audience.

    A post is a dict with caption, posted_at (default: now), and optionally likes, comments,
    views, type, paid_partnership, external_id; hashtags/mentions/sponsored are derived as
    ingest derives them. `audience` maps countries/ages/genders/languages/interests to shares.
    """
    creator_id, account_id = uuid.uuid4(), uuid.uuid4()
    handle = handle or unique_handle()
    now = datetime.now(UTC)
    posts = [dict(p) for p in posts]
    for post in posts:
        post.setdefault("posted_at", now - timedelta(days=1))
    posts.sort(key=lambda p: p["posted_at"], reverse=True)
    captions = [p.get("caption") for p in posts]
    audience = audience or {}
    accounts = [{"platform": platform, "handle": handle, "followers": followers}, *extra_accounts]
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(
            f"""
            INSERT INTO discovery.creators (
                id, platform, handle, follower_count, engagement_rate, growth_30d, growth_90d, platforms,
                followers_total, display_name, bio, niches, languages, country, city, contact, contactable,
                price_estimates, last_posted_at, audience_countries, audience_ages, audience_genders,
                audience_languages, audience_interests, audience_estimated_at, audience_source,
                audit_score, audit_grade, audit_status, text_config, document, embedding, embedding_stale,
                audience_vector
            ) VALUES (
                $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17, $18::jsonb,
                $19, $20::jsonb, $21::jsonb, $22::jsonb, $23::jsonb, $24::jsonb, $25, $26, $27, $28, $29, $30,
                {text.document_sql("$35", "$11", "$31", "$32")}, $33::vector, $34,
                discovery.audience_vector($20::jsonb, $21::jsonb, $22::jsonb, $23::jsonb)
            )""",
            creator_id, platform, handle, followers, engagement_rate, growth_30d, growth_90d,
            sorted({a["platform"] for a in accounts}),
            sum(a.get("followers") or 0 for a in accounts), display_name, bio, list(niches), list(languages),
            country, city, json.dumps(contact or {}), bool(contact), json.dumps(list(price_estimates)),
            posts[0]["posted_at"] if posts else None,
            _shares(audience.get("countries")), _shares(audience.get("ages")), _shares(audience.get("genders")),
            _shares(audience.get("languages")), _shares(audience.get("interests")),
            now if audience else None, "test" if audience else None,
            audit_score, audit_grade, "completed" if audit_score is not None else None,
            text.text_config_for(list(languages)), ", ".join(niches), text.captions_text(captions),
            None if embedding is None else str(list(embedding)), embedding is None, text.text_config_for(list(languages)),
        )
        await conn.execute(
            "INSERT INTO discovery.accounts (id, creator_id, platform, handle, followers, following, engagement_rate,"
            " engagement_formula) VALUES ($1, $2, $3, $4, $5, $6, $7, '(avg_likes + avg_comments) / followers')",
            account_id, creator_id, platform, handle, followers, following, engagement_rate,
        )
        for extra in extra_accounts:
            await conn.execute(
                "INSERT INTO discovery.accounts (id, creator_id, platform, handle, followers) VALUES ($1, $2, $3, $4, $5)",
                uuid.uuid4(), creator_id, extra["platform"], extra.get("handle") or unique_handle(), extra.get("followers"),
            )
        for post in posts:
            tags = text.hashtags(post.get("caption"))
            await conn.execute(
                "INSERT INTO discovery.posts (id, creator_id, account_id, platform, external_id, posted_at, type,"
                " caption, hashtags, mentions, likes, comments, views, paid_partnership, sponsored)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                uuid.uuid4(), creator_id, account_id, platform, post.get("external_id") or uuid.uuid4().hex,
                post["posted_at"], post.get("type", "photo"), post.get("caption"), tags,
                text.mentions(post.get("caption")), post.get("likes"), post.get("comments"), post.get("views"),
                post.get("paid_partnership", False), text.is_sponsored(post.get("paid_partnership", False), tags, post.get("caption")),
            )
    return creator_id
