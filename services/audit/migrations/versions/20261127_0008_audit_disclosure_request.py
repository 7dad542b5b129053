"""an audit keeps the disclosure jurisdictions and sponsors it was asked for

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = 'audit'


def upgrade() -> None:
    op.add_column('audits', sa.Column('jurisdictions', postgresql.ARRAY(sa.Text()), nullable=True, comment="Disclosure rule sets asked for (US, UK, DE, FR, ES); null: the creator's country's plus US and UK."), schema=SCHEMA)
    op.add_column('audits', sa.Column('sponsors', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False, comment='Brands named as sponsors: a post naming one is sponsored.'), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column('audits', 'sponsors', schema=SCHEMA)
    op.drop_column('audits', 'jurisdictions', schema=SCHEMA)
