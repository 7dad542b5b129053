"""embeddings: HNSW indexes (content and audience), the stale queue, the audience vector

The audience vector is a generated column over the function discovery.audience_vector
(services/discovery/embedding/audience.py, whose SQL is frozen here), so existing rows get
theirs when the column is added. docs/decisions/0022-embeddings-and-lookalikes.md.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 17:10:00
"""

from collections.abc import Sequence

import pgvector.sqlalchemy
import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'discovery'
HNSW = {'m': 16, 'ef_construction': 64}

AUDIENCE_BLOCK = r"""
CREATE FUNCTION discovery.audience_block(shares jsonb, keys text[], weight float8, rest boolean)
RETURNS float8[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
DECLARE
    out float8[] := '{}';
    share float8;
    known float8 := 0;
    total float8;
    k text;
BEGIN
    IF jsonb_typeof(shares) IS DISTINCT FROM 'object' THEN
        shares := '{}'::jsonb;
    END IF;
    FOREACH k IN ARRAY keys LOOP
        share := CASE WHEN jsonb_typeof(shares -> k) = 'number' THEN greatest((shares ->> k)::float8, 0) ELSE 0 END;
        known := known + share;
        out := out || sqrt(weight * share);
    END LOOP;
    IF rest THEN
        SELECT coalesce(sum(greatest((value #>> '{}')::float8, 0)), 0) INTO total
        FROM jsonb_each(shares) WHERE jsonb_typeof(value) = 'number';
        out := out || sqrt(weight * greatest(total - known, 0));
    END IF;
    RETURN out;
END
$fn$
"""

AUDIENCE_VECTOR = r"""
CREATE FUNCTION discovery.audience_vector(countries jsonb, ages jsonb, genders jsonb, languages jsonb)
RETURNS vector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path FROM CURRENT
AS $fn$
DECLARE
    parts float8[];
    norm float8;
BEGIN
    parts := discovery.audience_block(countries, ARRAY['US', 'GB', 'CA', 'AU', 'DE', 'FR', 'ES', 'IT', 'NL', 'SE', 'NO', 'DK', 'FI', 'PL', 'PT', 'IE', 'BE', 'CH', 'AT', 'BR', 'MX', 'AR', 'CO', 'CL', 'IN', 'ID', 'PH', 'TH', 'VN', 'JP', 'KR', 'CN', 'TR', 'SA', 'AE', 'EG', 'NG', 'ZA', 'RU', 'UA'], 0.4, true) ||
        discovery.audience_block(ages, ARRAY['13-17', '18-24', '25-34', '35-44', '45-54', '55-64', '65+'], 0.25, true) ||
        discovery.audience_block(genders, ARRAY['female', 'male', 'other'], 0.15, false) ||
        discovery.audience_block(languages, ARRAY['en', 'es', 'pt', 'fr', 'de', 'it', 'nl', 'sv', 'pl', 'ru', 'uk', 'tr', 'ar', 'hi', 'id', 'ja', 'ko', 'zh', 'th', 'vi'], 0.2, true);
    SELECT sqrt(sum(v * v)) INTO norm FROM unnest(parts) AS v;
    IF norm = 0 THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT array_agg(v / norm ORDER BY n) FROM unnest(parts) WITH ORDINALITY AS u(v, n))::vector;
END
$fn$
"""


def upgrade() -> None:
    op.execute(AUDIENCE_BLOCK)
    op.execute(AUDIENCE_VECTOR)
    op.add_column(
        'creators',
        sa.Column(
            'audience_vector',
            pgvector.sqlalchemy.Vector(dim=73),
            sa.Computed(
                'discovery.audience_vector(audience_countries, audience_ages, audience_genders, audience_languages)',
                persisted=True,
            ),
            nullable=True,
            comment='Countries, ages, genders and languages as one unit vector (embedding/audience.py).',
        ),
        schema=S,
    )
    op.create_index(
        'ix_discovery_creators_embedding_hnsw', 'creators', ['embedding'], unique=False, schema=S,
        postgresql_using='hnsw', postgresql_with=HNSW, postgresql_ops={'embedding': 'vector_cosine_ops'},
    )
    op.create_index(
        'ix_discovery_creators_audience_vector_hnsw', 'creators', ['audience_vector'], unique=False, schema=S,
        postgresql_using='hnsw', postgresql_with=HNSW, postgresql_ops={'audience_vector': 'vector_cosine_ops'},
    )
    op.create_index(
        'ix_discovery_creators_embedding_stale', 'creators', ['id'], unique=False, schema=S,
        postgresql_where=sa.text('embedding_stale'),
    )


def downgrade() -> None:
    op.drop_index('ix_discovery_creators_embedding_stale', table_name='creators', schema=S)
    op.drop_index('ix_discovery_creators_audience_vector_hnsw', table_name='creators', schema=S)
    op.drop_index('ix_discovery_creators_embedding_hnsw', table_name='creators', schema=S)
    op.drop_column('creators', 'audience_vector', schema=S)
    op.execute('DROP FUNCTION discovery.audience_vector(jsonb, jsonb, jsonb, jsonb)')
    op.execute('DROP FUNCTION discovery.audience_block(jsonb, text[], float8, boolean)')
