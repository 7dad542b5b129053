"""full text and the array filters (and the country as one) in one GIN index

A text query combined with a niche, platform or language filter read every match of the query
from the heap and filtered there: the planner estimates a query of several words at a few dozen
matches (it multiplies the words' frequencies; words of one topic occur together), so it never
intersected the document index with the niche index. At 1,000,000 creators "travel roadtrip
adventure wanderlust" with the niche "beauty" read 62,045 matches to keep 23 (177 ms). A GIN
index over (document, niches, platforms, languages) intersects them inside the index whatever the
estimate; the country, a scalar column, is indexed as ARRAY[country] (GIN indexes arrays, and
btree_gin is not bundled) and search writes its condition in that form when there is a query. It
replaces the document-only indexes of migrations 0009 and 0014, floor by floor; a
condition on the document alone uses it as before. docs/decisions/0025-search-at-a-million.md.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'discovery'
COLUMNS = ['document', 'niches', 'platforms', 'languages', sa.text('(ARRAY[country])')]
FLOORS = (100_000, 10_000)


def upgrade() -> None:
    op.create_index('ix_discovery_creators_search', 'creators', COLUMNS, unique=False, schema=S,
                    postgresql_using='gin')
    for floor in FLOORS:
        op.create_index(f'ix_discovery_creators_search_followers_{floor // 1000}k', 'creators', COLUMNS,
                        unique=False, schema=S, postgresql_using='gin',
                        postgresql_where=sa.text(f'follower_count >= {floor}'))
    op.drop_index('ix_discovery_creators_document', table_name='creators', schema=S)
    for floor in FLOORS:
        op.drop_index(f'ix_discovery_creators_document_followers_{floor // 1000}k', table_name='creators', schema=S)


def downgrade() -> None:
    op.create_index('ix_discovery_creators_document', 'creators', ['document'], unique=False, schema=S,
                    postgresql_using='gin')
    for floor in FLOORS:
        op.create_index(f'ix_discovery_creators_document_followers_{floor // 1000}k', 'creators', ['document'],
                        unique=False, schema=S, postgresql_using='gin',
                        postgresql_where=sa.text(f'follower_count >= {floor}'))
    op.drop_index('ix_discovery_creators_search', table_name='creators', schema=S)
    for floor in FLOORS:
        op.drop_index(f'ix_discovery_creators_search_followers_{floor // 1000}k', table_name='creators', schema=S)
