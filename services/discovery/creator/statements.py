"""The SQL of the creator write path (ingest.py): the columns it reads and writes, the
statements of a batch of a few creators (one executemany each), and the staging tables and
set-based merge of a larger batch."""

from services.discovery.creator import text as creator_text

CREATOR_COLUMNS = (
    "id, platform, handle, follower_count, engagement_rate, growth_30d, growth_90d, platforms, followers_total, "
    "display_name, bio, niches, languages, country, city, contact, contactable, price_estimates, last_posted_at, "
    "audience_countries, audience_ages, audience_genders, audience_languages, audience_interests, "
    "audience_estimated_at, audience_source, embedding_text_hash, embedding_stale"
)
ACCOUNT_COLUMNS = (
    "id, creator_id, platform, handle, url, followers, following, posts_count, avg_likes, avg_comments, avg_views, "
    "engagement_rate, engagement_formula, metrics_at"
)
POST_COLUMNS = (
    "id, creator_id, account_id, platform, external_id, url, posted_at, type, caption, hashtags, mentions, likes, "
    "comments, views, paid_partnership, sponsored"
)


def _upsert(conflict: str, columns: str) -> str:
    """ON CONFLICT ... DO UPDATE setting `columns` (comma-separated) from the row proposed."""
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns.split(", "))
    return f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}, updated_at = now()"


_CREATOR_UPSERT = _upsert("id", (
    "platform, handle, follower_count, engagement_rate, growth_30d, growth_90d, platforms, followers_total, "
    "display_name, bio, niches, languages, country, city, contact, contactable, price_estimates, last_posted_at, "
    "audience_countries, audience_ages, audience_genders, audience_languages, audience_interests, "
    "audience_estimated_at, audience_source, audience_vector, text_config, document, embedding_stale"
))
_ACCOUNT_UPSERT = _upsert("id", (
    "handle, url, followers, following, posts_count, avg_likes, avg_comments, avg_views, engagement_rate, "
    "engagement_formula, metrics_at"
))
_POST_UPSERT = _upsert("account_id, external_id", (
    "url, posted_at, type, caption, hashtags, mentions, likes, comments, views, paid_partnership, sponsored"
))

# A write of a few creators (POST, PATCH, a line retried alone) takes these statements, one
# executemany each: fewer round trips than staging them.
SMALL_BATCH = 20
WRITE_CREATOR = f"""
INSERT INTO discovery.creators (
    id, platform, handle, follower_count, engagement_rate, growth_30d, growth_90d, platforms, followers_total,
    display_name, bio, niches, languages, country, city, contact, contactable, price_estimates, last_posted_at,
    audience_countries, audience_ages, audience_genders, audience_languages, audience_interests,
    audience_estimated_at, audience_source, audience_vector, text_config, document, embedding_stale
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17, $18::jsonb, $19,
    $20::jsonb, $21::jsonb, $22::jsonb, $23::jsonb, $24::jsonb, $25, $26, $27::text::vector, $28::text,
    {creator_text.document_sql("$28::text", "$11::text", "$29::text", "$30::text")}, $31
)
{_CREATOR_UPSERT}
"""
WRITE_ACCOUNT = f"""
INSERT INTO discovery.accounts ({ACCOUNT_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
{_ACCOUNT_UPSERT}
"""
WRITE_POST = f"""
INSERT INTO discovery.posts ({POST_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
{_POST_UPSERT}
"""
WRITE_POINT = """
INSERT INTO discovery.follower_points (account_id, observed_at, followers) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING
"""


# A batch's rows go through four temporary staging tables, one binary COPY each, then into the
# real tables with one set-based statement per table, the four sent in one round trip: far less
# work for PostgreSQL per row than a parameterised statement per row (executemany). ON COMMIT
# DELETE ROWS and emptied after every merge, so a staging table never carries rows from one
# batch, savepoint or request into another.
STAGE_CREATOR_COLUMNS = (
    "id", "platform", "handle", "follower_count", "engagement_rate", "growth_30d", "growth_90d", "platforms",
    "followers_total", "display_name", "bio", "niches", "languages", "country", "city", "contact", "contactable",
    "price_estimates", "last_posted_at", "audience_countries", "audience_ages", "audience_genders",
    "audience_languages", "audience_interests", "audience_estimated_at", "audience_source", "audience_vector",
    "text_config", "niches_text", "captions", "embedding_stale",
)
WRITTEN = ", ".join(c for c in STAGE_CREATOR_COLUMNS if c not in ("niches_text", "captions"))
# The audience vector is staged as text ('[0.1,...]': no binary codec needed) and cast here.
_WRITTEN_FROM_STAGE = WRITTEN.replace("audience_vector", "audience_vector::vector")
STAGE = """
CREATE TEMP TABLE IF NOT EXISTS ingest_creators (
    id uuid, platform text, handle text, follower_count bigint, engagement_rate float8, growth_30d float8,
    growth_90d float8, platforms text[], followers_total bigint, display_name text, bio text, niches text[],
    languages text[], country text, city text, contact jsonb, contactable boolean, price_estimates jsonb,
    last_posted_at timestamptz, audience_countries jsonb, audience_ages jsonb, audience_genders jsonb,
    audience_languages jsonb, audience_interests jsonb, audience_estimated_at timestamptz, audience_source text,
    audience_vector text, text_config text, niches_text text, captions text, embedding_stale boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_accounts (
    id uuid, creator_id uuid, platform text, handle text, url text, followers bigint, following bigint,
    posts_count bigint, avg_likes float8, avg_comments float8, avg_views float8, engagement_rate float8,
    engagement_formula text, metrics_at timestamptz
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_posts (
    id uuid, creator_id uuid, account_id uuid, platform text, external_id text, url text, posted_at timestamptz,
    type text, caption text, hashtags text[], mentions text[], likes bigint, comments bigint, views bigint,
    paid_partnership boolean, sponsored boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_points (account_id uuid, observed_at timestamptz, followers bigint)
    ON COMMIT DELETE ROWS;
"""
# Creators first (accounts and posts refer to them), then accounts (posts and points refer to
# them). A batch holds each creator, account, post and point once, so ON CONFLICT meets each row
# at most once.
MERGE = f"""
INSERT INTO discovery.creators ({WRITTEN}, document)
SELECT {_WRITTEN_FROM_STAGE}, {creator_text.document_sql("text_config", "bio", "niches_text", "captions")}
FROM ingest_creators
{_CREATOR_UPSERT};
INSERT INTO discovery.accounts ({ACCOUNT_COLUMNS})
SELECT {ACCOUNT_COLUMNS} FROM ingest_accounts
{_ACCOUNT_UPSERT};
INSERT INTO discovery.posts ({POST_COLUMNS})
SELECT {POST_COLUMNS} FROM ingest_posts
{_POST_UPSERT};
INSERT INTO discovery.follower_points (account_id, observed_at, followers)
SELECT account_id, observed_at, followers FROM ingest_points
ON CONFLICT DO NOTHING;
DELETE FROM ingest_creators; DELETE FROM ingest_accounts; DELETE FROM ingest_posts; DELETE FROM ingest_points;
"""

ACCOUNT_COLUMN_NAMES = tuple(ACCOUNT_COLUMNS.split(", "))
POST_COLUMN_NAMES = tuple(POST_COLUMNS.split(", "))
POINT_COLUMN_NAMES = ("account_id", "observed_at", "followers")
