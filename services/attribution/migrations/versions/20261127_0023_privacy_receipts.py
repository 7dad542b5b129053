"""privacy receipts: what attribution did for each data-subject request (ADR 0054)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-27 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'


def upgrade() -> None:
    op.create_table(
        'privacy_receipts',
        sa.Column('request_id', sa.UUID(), nullable=False, comment="The gateway's request id."),
        sa.Column('kind', sa.String(length=16), nullable=False, comment='export | erasure'),
        sa.Column('subject_type', sa.String(length=16), nullable=False, comment='customer | creator'),
        sa.Column('origin', sa.String(length=16), nullable=False, comment="api | shopify (a store's privacy webhook)"),
        sa.Column('actions', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment='What was done, per kind of record, with counts.'),
        sa.Column('export', postgresql.JSONB(astext_type=sa.Text()), nullable=True,
                  comment='For an export: the data held about the subject.'),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False,
                  comment='The tenant that owns the row; filtered on by shared.tenancy.'),
        sa.PrimaryKeyConstraint('request_id', name=op.f('pk_privacy_receipts')),
        schema=S,
    )
    op.create_index('ix_attribution_privacy_receipts_tenant_completed', 'privacy_receipts',
                    ['tenant_id', 'completed_at', 'request_id'], schema=S)


def downgrade() -> None:
    op.drop_index('ix_attribution_privacy_receipts_tenant_completed', table_name='privacy_receipts', schema=S)
    op.drop_table('privacy_receipts', schema=S)
