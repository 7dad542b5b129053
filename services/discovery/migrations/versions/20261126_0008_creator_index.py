"""the creator index: a creator (person) with accounts, posts, follower points, audience, projections

Existing rows are kept: each becomes a creator whose one account is its former platform +
handle + follower count (and which stays its primary account).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 17:00:00
"""

from collections.abc import Sequence

import pgvector.sqlalchemy
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'discovery'
TIER_SQL = (
    "CASE WHEN follower_count IS NULL THEN NULL "
    "WHEN follower_count < 10000 THEN 'nano' "
    "WHEN follower_count < 100000 THEN 'micro' "
    "WHEN follower_count < 500000 THEN 'mid' "
    "WHEN follower_count < 1000000 THEN 'macro' "
    "ELSE 'mega' END"
)


def _ts(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    add = lambda column: op.add_column('creators', column, schema=S)  # noqa: E731
    add(sa.Column('tier', sa.String(length=10), sa.Computed(TIER_SQL, persisted=True), nullable=True))
    add(sa.Column('engagement_rate', sa.Float(), nullable=True, comment="The primary account's, as a fraction."))
    add(sa.Column('growth_30d', sa.Float(), nullable=True, comment='Primary account follower change over 30 days, fraction.'))
    add(sa.Column('growth_90d', sa.Float(), nullable=True, comment='Primary account follower change over 90 days, fraction.'))
    add(sa.Column('platforms', postgresql.ARRAY(sa.String(length=20)), server_default='{}', nullable=False, comment="Every account's platform."))
    add(sa.Column('followers_total', sa.BigInteger(), nullable=True, comment='Sum over the accounts.'))
    add(sa.Column('bio', sa.Text(), nullable=True))
    add(sa.Column('niches', postgresql.ARRAY(sa.String(length=50)), server_default='{}', nullable=False))
    add(sa.Column('languages', postgresql.ARRAY(sa.String(length=3)), server_default='{}', nullable=False, comment='ISO 639-1 codes.'))
    add(sa.Column('country', sa.String(length=2), nullable=True, comment='ISO 3166-1 alpha-2.'))
    add(sa.Column('city', sa.String(length=100), nullable=True))
    add(sa.Column('contact', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False, comment='Private contact details (email, phone, agent, website...).'))
    add(sa.Column('contactable', sa.Boolean(), server_default='false', nullable=False))
    add(sa.Column('price_estimates', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False, comment='[{platform, deliverable, amount, currency}] (amount a decimal string).'))
    add(_ts('last_posted_at', nullable=True))
    for name in ('countries', 'ages', 'genders', 'languages', 'interests'):
        add(sa.Column(f'audience_{name}', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    add(_ts('audience_estimated_at', nullable=True))
    add(sa.Column('audience_source', sa.String(length=100), nullable=True))
    add(sa.Column('audit_grade', sa.String(length=5), nullable=True))
    add(sa.Column('audit_audience_quality', sa.Float(), nullable=True, comment='Share of real audience, 0..1.'))
    add(sa.Column('audit_flags', postgresql.ARRAY(sa.String(length=50)), server_default='{}', nullable=False))
    add(sa.Column('text_config', sa.String(length=20), server_default='simple', nullable=False, comment='PostgreSQL text search configuration of `document`.'))
    add(sa.Column('document', postgresql.TSVECTOR(), nullable=True, comment='Bio (weight A), niches (B), recent captions (C).'))
    add(sa.Column('embedding', pgvector.sqlalchemy.Vector(dim=384), nullable=True))
    add(sa.Column('embedding_text_hash', sa.String(length=64), nullable=True, comment='sha256 of the text the embedding was made from.'))
    add(sa.Column('embedding_stale', sa.Boolean(), server_default='true', nullable=False, comment='The bio or captions changed since the embedding was made.'))
    add(_ts('embedded_at', nullable=True))
    op.alter_column('creators', 'platform', existing_type=sa.String(length=20), comment="The primary account's platform.", existing_nullable=False, schema=S)
    op.alter_column('creators', 'handle', existing_type=sa.String(length=100), comment="The primary account's handle: lower-cased, without '@'.", existing_comment="Lower-cased, without '@'.", existing_nullable=False, schema=S)
    op.alter_column('creators', 'follower_count', existing_type=sa.BigInteger(), comment="The primary account's followers.", existing_nullable=True, schema=S)

    op.create_table(
        'accounts',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('platform', sa.String(length=20), nullable=False),
        sa.Column('handle', sa.String(length=100), nullable=False, comment="Lower-cased, without '@'."),
        sa.Column('url', sa.String(length=2048), nullable=True),
        sa.Column('followers', sa.BigInteger(), nullable=True),
        sa.Column('following', sa.BigInteger(), nullable=True),
        sa.Column('posts_count', sa.BigInteger(), nullable=True),
        sa.Column('avg_likes', sa.Float(), nullable=True),
        sa.Column('avg_comments', sa.Float(), nullable=True),
        sa.Column('avg_views', sa.Float(), nullable=True),
        sa.Column('engagement_rate', sa.Float(), nullable=True, comment='A fraction, made by engagement_formula.'),
        sa.Column('engagement_formula', sa.String(length=200), nullable=True, comment='How engagement_rate was computed, e.g. (avg_likes + avg_comments) / followers.'),
        _ts('metrics_at', nullable=True, comment='When the figures were read.'),
        _ts('created_at', server_default=sa.text('now()'), nullable=False),
        _ts('updated_at', server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['creator_id'], ['discovery.creators.id'], name=op.f('fk_accounts_creator_id_creators'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
        sa.UniqueConstraint('platform', 'handle', name=op.f('uq_accounts_platform_handle')),
        schema=S,
    )
    op.create_index('ix_discovery_accounts_creator_id', 'accounts', ['creator_id'], unique=False, schema=S)
    # Every existing creator keeps its one account (which is its primary account).
    op.execute(
        "INSERT INTO discovery.accounts (id, creator_id, platform, handle, followers, created_at, updated_at) "
        "SELECT gen_random_uuid(), id, platform, handle, follower_count, created_at, updated_at FROM discovery.creators"
    )
    op.execute(
        "UPDATE discovery.creators SET platforms = ARRAY[platform]::varchar(20)[], followers_total = follower_count"
    )

    op.create_table(
        'follower_points',
        sa.Column('account_id', sa.UUID(), nullable=False),
        _ts('observed_at', nullable=False),
        sa.Column('followers', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['discovery.accounts.id'], name=op.f('fk_follower_points_account_id_accounts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'observed_at', name=op.f('pk_follower_points')),
        schema=S,
    )
    op.create_table(
        'posts',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('account_id', sa.UUID(), nullable=False),
        sa.Column('platform', sa.String(length=20), nullable=False),
        sa.Column('external_id', sa.String(length=200), nullable=False, comment="The platform's id of the post."),
        sa.Column('url', sa.String(length=2048), nullable=True),
        _ts('posted_at', nullable=False),
        sa.Column('type', sa.String(length=20), nullable=False, comment='photo, video, reel, carousel, story, short, live, text.'),
        sa.Column('caption', sa.Text(), nullable=True),
        sa.Column('hashtags', postgresql.ARRAY(sa.String(length=100)), server_default='{}', nullable=False),
        sa.Column('mentions', postgresql.ARRAY(sa.String(length=100)), server_default='{}', nullable=False),
        sa.Column('likes', sa.BigInteger(), nullable=True),
        sa.Column('comments', sa.BigInteger(), nullable=True),
        sa.Column('views', sa.BigInteger(), nullable=True),
        sa.Column('paid_partnership', sa.Boolean(), server_default='false', nullable=False, comment="The platform's label."),
        sa.Column('sponsored', sa.Boolean(), server_default='false', nullable=False, comment='The label, or a disclosure tag such as #ad in the caption.'),
        _ts('created_at', server_default=sa.text('now()'), nullable=False),
        _ts('updated_at', server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['discovery.accounts.id'], name=op.f('fk_posts_account_id_accounts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['creator_id'], ['discovery.creators.id'], name=op.f('fk_posts_creator_id_creators'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_posts')),
        sa.UniqueConstraint('account_id', 'external_id', name=op.f('uq_posts_account_id_external_id')),
        schema=S,
    )
    op.create_index('ix_discovery_posts_creator_id_posted_at', 'posts', ['creator_id', sa.text('posted_at DESC')], unique=False, schema=S)
    op.create_index('ix_discovery_posts_hashtags', 'posts', ['hashtags'], unique=False, schema=S, postgresql_using='gin')
    op.create_index('ix_discovery_posts_mentions', 'posts', ['mentions'], unique=False, schema=S, postgresql_using='gin')
    op.create_table(
        'creator_sales',
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('clicks', sa.BigInteger(), nullable=False),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.Column('revenue_minor', sa.BigInteger(), nullable=False),
        sa.Column('commission_minor', sa.BigInteger(), nullable=False),
        _ts('as_of', nullable=False, comment='as_of of the last event applied.'),
        sa.ForeignKeyConstraint(['creator_id'], ['discovery.creators.id'], name=op.f('fk_creator_sales_creator_id_creators'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('creator_id', 'currency', name=op.f('pk_creator_sales')),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table('creator_sales', schema=S)
    op.drop_index('ix_discovery_posts_mentions', table_name='posts', schema=S, postgresql_using='gin')
    op.drop_index('ix_discovery_posts_hashtags', table_name='posts', schema=S, postgresql_using='gin')
    op.drop_index('ix_discovery_posts_creator_id_posted_at', table_name='posts', schema=S)
    op.drop_table('posts', schema=S)
    op.drop_table('follower_points', schema=S)
    op.drop_index('ix_discovery_accounts_creator_id', table_name='accounts', schema=S)
    op.drop_table('accounts', schema=S)
    for name in (
        'embedded_at', 'embedding_stale', 'embedding_text_hash', 'embedding', 'document', 'text_config',
        'audit_flags', 'audit_audience_quality', 'audit_grade', 'audience_source', 'audience_estimated_at',
        'audience_interests', 'audience_languages', 'audience_genders', 'audience_ages', 'audience_countries',
        'last_posted_at', 'price_estimates', 'contactable', 'contact', 'city', 'country', 'languages', 'niches',
        'bio', 'followers_total', 'platforms', 'growth_90d', 'growth_30d', 'engagement_rate', 'tier',
    ):
        op.drop_column('creators', name, schema=S)
    op.alter_column('creators', 'handle', existing_type=sa.String(length=100), comment="Lower-cased, without '@'.", schema=S)
    op.alter_column('creators', 'follower_count', existing_type=sa.BigInteger(), comment=None, schema=S)
    op.alter_column('creators', 'platform', existing_type=sa.String(length=20), comment=None, schema=S)
