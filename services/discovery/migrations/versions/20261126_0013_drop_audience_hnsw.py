"""drop the audience vector's HNSW index: ingest paid for it on every creator it wrote

Audience lookalikes rank the audience vector exactly over candidates instead
(docs/decisions/0024-bulk-ingest-throughput.md). The generated column stays.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 22:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'discovery'
HNSW = {'m': 16, 'ef_construction': 64}


def upgrade() -> None:
    op.drop_index('ix_discovery_creators_audience_vector_hnsw', table_name='creators', schema=S)


def downgrade() -> None:
    op.create_index(
        'ix_discovery_creators_audience_vector_hnsw', 'creators', ['audience_vector'], unique=False, schema=S,
        postgresql_using='hnsw', postgresql_with=HNSW, postgresql_ops={'audience_vector': 'vector_cosine_ops'},
    )
