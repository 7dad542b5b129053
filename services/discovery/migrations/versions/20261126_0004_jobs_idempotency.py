"""idempotency_keys table: Idempotency-Key on POST routes (ADR 0010)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 12:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('owner', sa.String(length=100), nullable=False, comment="Who the key belongs to (tenant); '' until tenants exist."),
    sa.Column('route', sa.String(length=300), nullable=False, comment='Method and route template.'),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False, comment='sha256 of method, path, query and body.'),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=False),
    sa.Column('response_headers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('owner', 'route', 'key', name=op.f('pk_idempotency_keys')),
    schema='discovery'
    )
    op.create_index(op.f('ix_discovery_idempotency_keys_expires_at'), 'idempotency_keys', ['expires_at'], unique=False, schema='discovery')


def downgrade() -> None:
    op.drop_index(op.f('ix_discovery_idempotency_keys_expires_at'), table_name='idempotency_keys', schema='discovery')
    op.drop_table('idempotency_keys', schema='discovery')
