"""privacy_receipts: what audit did for each data-subject request, the asking workspace's; and
erased_creators, so discovery's later events about an erased creator are ignored

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = 'audit'
TENANT_COMMENT = 'The tenant that owns the row; filtered on by shared.tenancy.'


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
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT_COMMENT),
        sa.PrimaryKeyConstraint('request_id', name=op.f('pk_privacy_receipts')),
        schema=SCHEMA,
    )
    op.create_table(
        'erased_creators',
        sa.Column('creator_id', sa.UUID(), nullable=False, comment="Discovery's creator id."),
        sa.Column('erased_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('creator_id', name=op.f('pk_erased_creators')),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table('erased_creators', schema=SCHEMA)
    op.drop_table('privacy_receipts', schema=SCHEMA)
