"""jobs table: slow work (model calls) outside the consumer's transaction (ADR 0010)

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
    op.create_table('jobs',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False, comment='Unique per kind: recording the same job twice is a no-op.'),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False, comment='Not claimed before (retry backoff).'),
    sa.Column('lease_token', sa.UUID(), nullable=True, comment='Set by each claim; only its holder may finish the job.'),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True, comment='A running job past this is claimable again (its worker died).'),
    sa.Column('result', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'running', 'succeeded', 'failed')", name=op.f('ck_jobs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('kind', 'key', name=op.f('uq_jobs_kind_key')),
    schema='audit'
    )
    op.create_index('ix_jobs_due', 'jobs', ['run_after'], unique=False, schema='audit', postgresql_where="status = 'pending'")
    op.create_index('ix_jobs_leased', 'jobs', ['lease_expires_at'], unique=False, schema='audit', postgresql_where="status = 'running'")


def downgrade() -> None:
    op.drop_index('ix_jobs_leased', table_name='jobs', schema='audit', postgresql_where="status = 'running'")
    op.drop_index('ix_jobs_due', table_name='jobs', schema='audit', postgresql_where="status = 'pending'")
    op.drop_table('jobs', schema='audit')
