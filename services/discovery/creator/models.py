"""The creator index: a creator (a person) with platform accounts, recent posts, a follower-count
time series per account, audience demographics, and projections of audits and sales.

`creators` is the search row: it carries, besides the person's own fields, the figures of its
*primary account* (the account with the most followers: platform, handle, follower_count,
engagement_rate, growth) and everything search filters on, so that a search reads one narrow row
per creator (docs/decisions/0019-creator-index.md). The accounts, posts and follower points
are the detail behind those figures.
"""

import uuid
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.discovery.db import Base

EMBEDDING_DIMENSIONS = 384  # all-MiniLM-L6-v2
# services/discovery/embedding/audience.py (BLOCKS); computed by the SQL function of migration 0010.
AUDIENCE_DIMENSIONS = 73
# The columns of the full-text GIN indexes: the document and the filters a text query is most
# often combined with: the array columns, and the country as a one-element array (GIN indexes
# arrays; a scalar would need btree_gin, which the bundled PostgreSQL does not ship).
# search.filters.conditions writes the country condition in that form too when there is a `q`.
COUNTRY_ARRAY_SQL = "(ARRAY[country])"
SEARCH_INDEX_COLUMNS = ("document", "niches", "platforms", "languages", text(COUNTRY_ARRAY_SQL))
# The same vector as ingest computes, by PostgreSQL's function (migration 0010): for loaders that
# write rows without ingest (bench/discovery_index.py, tests/discovery/factory.py).
AUDIENCE_VECTOR_SQL = "discovery.audience_vector(audience_countries, audience_ages, audience_genders, audience_languages)"
# HNSW graphs (docs/decisions/0022-embeddings-and-lookalikes.md): pgvector's defaults, m 16 and
# ef_construction 64; recall is bought at query time with hnsw.ef_search.
HNSW = {"m": 16, "ef_construction": 64}

# Follower tiers (Later x Fohr 2021, ../REFERENCE.md): nano < 10k <= micro < 100k <= mid < 500k
# <= macro < 1M <= mega. A generated column, so it can never disagree with follower_count.
TIER_SQL = (
    "CASE WHEN follower_count IS NULL THEN NULL "
    "WHEN follower_count < 10000 THEN 'nano' "
    "WHEN follower_count < 100000 THEN 'micro' "
    "WHEN follower_count < 500000 THEN 'mid' "
    "WHEN follower_count < 1000000 THEN 'macro' "
    "ELSE 'mega' END"
)


class Creator(Base):
    __tablename__ = "creators"
    __table_args__ = (
        # The primary account's platform + handle; every account's is unique in `accounts`.
        UniqueConstraint("platform", "handle"),
        # The list's keyset order, alone and after the platform filter.
        Index("ix_discovery_creators_created_at_id", "created_at", "id"),
        Index("ix_discovery_creators_platform_created_at_id", "platform", "created_at", "id"),
        # The other sorts GET /creators offers (repository.SORTS), NULLs last both ways: an
        # ascending index read backwards would put them first, so descending has its own.
        Index("ix_discovery_creators_follower_count_id", "follower_count", "id"),
        Index(
            "ix_discovery_creators_follower_count_desc_id",
            text("follower_count DESC NULLS LAST"),
            text("id DESC"),
        ),
        Index("ix_discovery_creators_audit_score_id", "audit_score", "id"),
        Index("ix_discovery_creators_audit_score_desc_id", text("audit_score DESC NULLS LAST"), text("id DESC")),
        # Search (migration 0009, docs/decisions/0021-search-indexes.md): full text, the array
        # filters, the equality and range filters, and the search sorts in their useful
        # direction, NULLs last. The audience thresholds have no index (migration 0014,
        # docs/decisions/0025-search-at-a-million.md): they are checked on the rows read.
        # Full text with the array filters in one GIN index (migration 0015): a query's matches
        # and a niche, platform or language filter intersect inside the index, not on the heap
        # (docs/decisions/0025-search-at-a-million.md, "One index for text and array filters").
        Index("ix_discovery_creators_search", *SEARCH_INDEX_COLUMNS, postgresql_using="gin"),
        # Relevance ranks the most followed matches first (search.repository.CANDIDATE_FLOORS,
        # migrations 0014 and 0015): the creators above each floor, indexed on their own.
        Index(
            "ix_discovery_creators_search_followers_100k",
            *SEARCH_INDEX_COLUMNS,
            postgresql_using="gin",
            postgresql_where=text("follower_count >= 100000"),
        ),
        Index(
            "ix_discovery_creators_search_followers_10k",
            *SEARCH_INDEX_COLUMNS,
            postgresql_using="gin",
            postgresql_where=text("follower_count >= 10000"),
        ),
        Index("ix_discovery_creators_niches", "niches", postgresql_using="gin"),
        Index("ix_discovery_creators_platforms", "platforms", postgresql_using="gin"),
        Index(
            "ix_discovery_creators_country_follower_count_desc_id",
            "country",
            text("follower_count DESC NULLS LAST"),
            text("id DESC"),
        ),
        Index("ix_discovery_creators_lower_city", text("lower(city)")),
        Index("ix_discovery_creators_last_posted_at", "last_posted_at"),
        Index(
            "ix_discovery_creators_engagement_rate_desc_id", text("engagement_rate DESC NULLS LAST"), text("id DESC")
        ),
        Index("ix_discovery_creators_growth_30d_desc_id", text("growth_30d DESC NULLS LAST"), text("id DESC")),
        Index("ix_discovery_creators_growth_90d_desc_id", text("growth_90d DESC NULLS LAST"), text("id DESC")),
        # Lookalikes and semantic search: nearest neighbours by content, by cosine distance.
        Index(
            "ix_discovery_creators_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_with=HNSW,
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        # No index on audience_vector: maintaining an HNSW graph cost bulk ingest two thirds of its
        # time; audience lookalikes rank it exactly over candidates (migration 0013, ADR 0024).
        # The embedding worker's queue: only the stale rows, so it stays small once caught up.
        Index("ix_discovery_creators_embedding_stale", "id", postgresql_where=text("embedding_stale")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # --- the primary account (largest follower count), kept in step by the service ----------
    platform: Mapped[str] = mapped_column(String(20), comment="The primary account's platform.")
    handle: Mapped[str] = mapped_column(String(100), comment="The primary account's handle: lower-cased, without '@'.")
    follower_count: Mapped[int | None] = mapped_column(BigInteger, comment="The primary account's followers.")
    tier: Mapped[str | None] = mapped_column(String(10), Computed(TIER_SQL, persisted=True))
    engagement_rate: Mapped[float | None] = mapped_column(Float, comment="The primary account's, as a fraction.")
    growth_30d: Mapped[float | None] = mapped_column(Float, comment="Primary account follower change over 30 days, fraction.")
    growth_90d: Mapped[float | None] = mapped_column(Float, comment="Primary account follower change over 90 days, fraction.")
    platforms: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default="{}", comment="Every account's platform.")
    followers_total: Mapped[int | None] = mapped_column(BigInteger, comment="Sum over the accounts.")
    # --- the person -----------------------------------------------------------------------
    display_name: Mapped[str | None] = mapped_column(String(200))
    bio: Mapped[str | None] = mapped_column(Text)
    niches: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default="{}")
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(3)), server_default="{}", comment="ISO 639-1 codes.")
    country: Mapped[str | None] = mapped_column(String(2), comment="ISO 3166-1 alpha-2.")
    city: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[dict] = mapped_column(
        JSONB, server_default="{}", comment="Private contact details (email, phone, agent, website...)."
    )
    contactable: Mapped[bool] = mapped_column(Boolean, server_default="false")
    price_estimates: Mapped[list] = mapped_column(
        JSONB, server_default="[]", comment="[{platform, deliverable, amount, currency}] (amount a decimal string)."
    )
    last_posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # --- audience demographics: {key: share 0..1}, the estimate's date and source --------------
    audience_countries: Mapped[dict | None] = mapped_column(JSONB)
    audience_ages: Mapped[dict | None] = mapped_column(JSONB)
    audience_genders: Mapped[dict | None] = mapped_column(JSONB)
    audience_languages: Mapped[dict | None] = mapped_column(JSONB)
    audience_interests: Mapped[dict | None] = mapped_column(JSONB)
    audience_estimated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    audience_source: Mapped[str | None] = mapped_column(String(100))
    # Written by ingest with the row's audience (embedding/audience.py); a generated column over
    # the PL/pgSQL function until migration 0017, which cost every write of a creator ~70 us.
    audience_vector: Mapped[list[float] | None] = mapped_column(
        Vector(AUDIENCE_DIMENSIONS),
        comment="Countries, ages, genders and languages as one unit vector (embedding/audience.py).",
    )
    # --- projection of audit.audit.v1 (owned by the audit service) ----------------------------
    audit_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    audit_status: Mapped[str | None] = mapped_column(String(20))
    audit_score: Mapped[float | None] = mapped_column(Float)
    audit_grade: Mapped[str | None] = mapped_column(String(5))
    audit_audience_quality: Mapped[float | None] = mapped_column(Float, comment="Share of real audience, 0..1.")
    audit_flags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default="{}")
    audit_updated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="occurred_at of the last audit event applied."
    )
    audit_sequence: Mapped[int | None] = mapped_column(
        BigInteger, comment="sequence of the last audit event applied (per creator on audit.audit.v1)."
    )
    # --- full-text and semantic search --------------------------------------------------------
    text_config: Mapped[str] = mapped_column(
        String(20), server_default="simple", comment="PostgreSQL text search configuration of `document`."
    )
    document: Mapped[str | None] = mapped_column(TSVECTOR, comment="Bio (weight A), niches (B), recent captions (C).")
    embedding: Mapped[list[float] | None] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    embedding_text_hash: Mapped[str | None] = mapped_column(
        String(64), comment="sha256 of the text the embedding was made from."
    )
    embedding_stale: Mapped[bool] = mapped_column(
        Boolean, server_default="true", comment="The bio or captions changed since the embedding was made."
    )
    embedded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Account(Base):
    """One platform account of a creator."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("platform", "handle"),
        Index("ix_discovery_accounts_creator_id", "creator_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("creators.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(100), comment="Lower-cased, without '@'.")
    url: Mapped[str | None] = mapped_column(String(2048))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    following: Mapped[int | None] = mapped_column(BigInteger)
    posts_count: Mapped[int | None] = mapped_column(BigInteger)
    avg_likes: Mapped[float | None] = mapped_column(Float)
    avg_comments: Mapped[float | None] = mapped_column(Float)
    avg_views: Mapped[float | None] = mapped_column(Float)
    engagement_rate: Mapped[float | None] = mapped_column(Float, comment="A fraction, made by engagement_formula.")
    engagement_formula: Mapped[str | None] = mapped_column(
        String(200), comment="How engagement_rate was computed, e.g. (avg_likes + avg_comments) / followers."
    )
    metrics_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="When the figures were read.")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class FollowerPoint(Base):
    """One follower count of an account, one per refresh: the time series growth is read from."""

    __tablename__ = "follower_points"

    account_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    followers: Mapped[int] = mapped_column(BigInteger)


class Post(Base):
    """A recent post of an account, as the platform showed it when it was read."""

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_discovery_posts_creator_id_posted_at", "creator_id", text("posted_at DESC")),
        # Brand mentions and branded hashtags (lower-cased, without '#' or '@').
        Index("ix_discovery_posts_hashtags", "hashtags", postgresql_using="gin"),
        Index("ix_discovery_posts_mentions", "mentions", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    creator_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("creators.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200), comment="The platform's id of the post.")
    url: Mapped[str | None] = mapped_column(String(2048))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    type: Mapped[str] = mapped_column(String(20), comment="photo, video, reel, carousel, story, short, live, text.")
    caption: Mapped[str | None] = mapped_column(Text)
    hashtags: Mapped[list[str]] = mapped_column(ARRAY(String(100)), server_default="{}")
    mentions: Mapped[list[str]] = mapped_column(ARRAY(String(100)), server_default="{}")
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    views: Mapped[int | None] = mapped_column(BigInteger)
    paid_partnership: Mapped[bool] = mapped_column(Boolean, server_default="false", comment="The platform's label.")
    sponsored: Mapped[bool] = mapped_column(
        Boolean, server_default="false", comment="The label, or a disclosure tag such as #ad in the caption."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CreatorSales(Base):
    """Projection of attribution.performance.v1: a creator's running sales record, per currency."""

    __tablename__ = "creator_sales"

    creator_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    clicks: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(Integer)
    revenue_minor: Mapped[int] = mapped_column(BigInteger)
    commission_minor: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="as_of of the last event applied.")
