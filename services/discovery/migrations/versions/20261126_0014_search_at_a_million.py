"""search at a million: full text of the most followed creators, no audience-token index

Relevance ranks the most followed matches of a query (search.repository.CANDIDATE_FLOORS): two
partial GIN indexes over the documents of the creators with at least 100,000 and 10,000
followers find them without reading the matches of everyone else.

At 1,000,000 creators the GIN index over discovery.audience_tokens() made filtered search slower,
not faster: its common tokens (an audience 30 % in the US, 60 % female) match a third to half
of the index, the planner ANDed their bitmaps into plans that read more than an ordered walk,
and wherever the index was not used the function ran as a filter at ~0.1 ms a row. The exact
checks on the distributions stay (search.filters); docs/decisions/0025-search-at-a-million.md.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'discovery'
FLOORS = (100_000, 10_000)
# A copy of migration 0009's, for the downgrade (a migration must not change when the models do).
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
    for floor in FLOORS:
        op.create_index(f'ix_discovery_creators_document_followers_{floor // 1000}k', 'creators', ['document'],
                        unique=False, schema=S, postgresql_using='gin',
                        postgresql_where=sa.text(f'follower_count >= {floor}'))
    op.drop_index('ix_discovery_creators_audience_tokens', table_name='creators', schema=S)
    op.execute('DROP FUNCTION discovery.audience_tokens(jsonb, jsonb, jsonb, jsonb)')


def downgrade() -> None:
    for floor in FLOORS:
        op.drop_index(f'ix_discovery_creators_document_followers_{floor // 1000}k', table_name='creators', schema=S)
    op.execute(AUDIENCE_TOKENS_FUNCTION)
    op.create_index('ix_discovery_creators_audience_tokens', 'creators', [sa.text(AUDIENCE_TOKENS_SQL)],
                    unique=False, schema=S, postgresql_using='gin')
