"""sort indexes: every order GET /creators offers is read from an index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_discovery_creators_follower_count_id', 'creators', ['follower_count', 'id'], unique=False, schema='discovery')
    op.create_index('ix_discovery_creators_follower_count_desc_id', 'creators', [sa.text('follower_count DESC NULLS LAST'), sa.text('id DESC')], unique=False, schema='discovery')
    op.create_index('ix_discovery_creators_audit_score_id', 'creators', ['audit_score', 'id'], unique=False, schema='discovery')
    op.create_index('ix_discovery_creators_audit_score_desc_id', 'creators', [sa.text('audit_score DESC NULLS LAST'), sa.text('id DESC')], unique=False, schema='discovery')


def downgrade() -> None:
    op.drop_index('ix_discovery_creators_audit_score_desc_id', table_name='creators', schema='discovery')
    op.drop_index('ix_discovery_creators_audit_score_id', table_name='creators', schema='discovery')
    op.drop_index('ix_discovery_creators_follower_count_desc_id', table_name='creators', schema='discovery')
    op.drop_index('ix_discovery_creators_follower_count_id', table_name='creators', schema='discovery')
