"""query indexes: the creator list's keyset order, alone and by platform

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 12:58:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_discovery_creators_created_at', table_name='creators', schema='discovery')
    op.create_index('ix_discovery_creators_created_at_id', 'creators', ['created_at', 'id'], unique=False, schema='discovery')
    op.create_index('ix_discovery_creators_platform_created_at_id', 'creators', ['platform', 'created_at', 'id'], unique=False, schema='discovery')


def downgrade() -> None:
    op.drop_index('ix_discovery_creators_platform_created_at_id', table_name='creators', schema='discovery')
    op.drop_index('ix_discovery_creators_created_at_id', table_name='creators', schema='discovery')
    op.create_index('ix_discovery_creators_created_at', 'creators', ['created_at'], unique=False, schema='discovery')
