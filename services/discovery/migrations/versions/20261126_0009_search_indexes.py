"""search indexes: full text, array filters, audience thresholds, search sorts

The audience thresholds are served by a GIN index over discovery.audience_tokens(), an
IMMUTABLE function of the four audience distributions (docs/decisions/0021-search-indexes.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'discovery'
# A copy, not an import: a migration must not change when the models do.
AUDIENCE_TOKENS_FUNCTION = """
CREATE OR REPLACE FUNCTION discovery.audience_tokens(countries jsonb, ages jsonb, genders jsonb, languages jsonb)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(d.kind || ':' || e.key || '>=' || s.step ORDER BY d.kind, e.key, s.step), '{}')
    FROM (VALUES ('country', countries), ('age', ages), ('gender', genders), ('language', languages)) AS d (kind, dist)
    CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(d.dist) = 'object' THEN d.dist ELSE '{}' END) AS e
    CROSS JOIN LATERAL generate_series(10, 100, 10) AS s (step)
    WHERE jsonb_typeof(e.value) = 'number' AND (e.value)::float8 >= s.step::float8 / 100
$$
"""
AUDIENCE_TOKENS_SQL = 'discovery.audience_tokens(audience_countries, audience_ages, audience_genders, audience_languages)'


def upgrade() -> None:
    op.execute(AUDIENCE_TOKENS_FUNCTION)
    index = lambda name, columns, **kw: op.create_index(name, 'creators', columns, unique=False, schema=S, **kw)  # noqa: E731
    index('ix_discovery_creators_document', ['document'], postgresql_using='gin')
    index('ix_discovery_creators_niches', ['niches'], postgresql_using='gin')
    index('ix_discovery_creators_platforms', ['platforms'], postgresql_using='gin')
    index('ix_discovery_creators_audience_tokens', [sa.text(AUDIENCE_TOKENS_SQL)], postgresql_using='gin')
    index('ix_discovery_creators_country_follower_count_desc_id', ['country', sa.text('follower_count DESC NULLS LAST'), sa.text('id DESC')])
    index('ix_discovery_creators_lower_city', [sa.text('lower(city)')])
    index('ix_discovery_creators_last_posted_at', ['last_posted_at'])
    index('ix_discovery_creators_engagement_rate_desc_id', [sa.text('engagement_rate DESC NULLS LAST'), sa.text('id DESC')])
    index('ix_discovery_creators_growth_30d_desc_id', [sa.text('growth_30d DESC NULLS LAST'), sa.text('id DESC')])
    index('ix_discovery_creators_growth_90d_desc_id', [sa.text('growth_90d DESC NULLS LAST'), sa.text('id DESC')])


def downgrade() -> None:
    for name in (
        'ix_discovery_creators_growth_90d_desc_id', 'ix_discovery_creators_growth_30d_desc_id',
        'ix_discovery_creators_engagement_rate_desc_id', 'ix_discovery_creators_last_posted_at',
        'ix_discovery_creators_lower_city', 'ix_discovery_creators_country_follower_count_desc_id',
        'ix_discovery_creators_audience_tokens',
        'ix_discovery_creators_platforms', 'ix_discovery_creators_niches', 'ix_discovery_creators_document',
    ):
        op.drop_index(name, table_name='creators', schema=S)
    op.execute('DROP FUNCTION discovery.audience_tokens(jsonb, jsonb, jsonb, jsonb)')
