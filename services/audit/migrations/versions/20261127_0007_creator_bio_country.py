"""audit's creator projection keeps bio, country and languages (brand safety and disclosure rules)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = 'audit'


def upgrade() -> None:
    op.add_column('creators', sa.Column('bio', sa.Text(), nullable=True, comment='Brand safety reads it.'), schema=SCHEMA)
    op.add_column('creators', sa.Column('country', sa.String(length=2), nullable=True, comment='ISO 3166-1 alpha-2: picks the disclosure rules.'), schema=SCHEMA)
    op.add_column('creators', sa.Column('languages', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False, comment='ISO 639-1 codes.'), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column('creators', 'languages', schema=SCHEMA)
    op.drop_column('creators', 'country', schema=SCHEMA)
    op.drop_column('creators', 'bio', schema=SCHEMA)
