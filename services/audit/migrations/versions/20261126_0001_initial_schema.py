"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 07:36:09.316560
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audits',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('creator_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False, comment='pending, completed or failed'),
    sa.Column('trigger', sa.String(length=40), nullable=False, comment='What asked for the audit, e.g. creator_created.'),
    sa.Column('trigger_event_id', sa.UUID(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('flags', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('model_version', sa.String(length=50), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audits')),
    schema='audit'
    )
    op.create_index(op.f('ix_audit_audits_created_at'), 'audits', ['created_at'], unique=False, schema='audit')
    op.create_index(op.f('ix_audit_audits_creator_id'), 'audits', ['creator_id'], unique=False, schema='audit')
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('topic', sa.String(length=249), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('envelope', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_id')),
    schema='audit'
    )
    op.create_index('ix_outbox_unsent', 'outbox', ['id'], unique=False, schema='audit', postgresql_where='sent_at IS NULL')
    op.create_index('ix_outbox_sent_at', 'outbox', ['sent_at'], unique=False, schema='audit', postgresql_where='sent_at IS NOT NULL')
    op.create_table('processed_events',
    sa.Column('consumer', sa.String(length=100), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('topic', sa.String(length=249), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_processed_events')),
    schema='audit'
    )
    op.create_index(op.f('ix_audit_processed_events_processed_at'), 'processed_events', ['processed_at'], unique=False, schema='audit')


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_processed_events_processed_at'), table_name='processed_events', schema='audit')
    op.drop_table('processed_events', schema='audit')
    op.drop_index('ix_outbox_sent_at', table_name='outbox', schema='audit', postgresql_where='sent_at IS NOT NULL')
    op.drop_index('ix_outbox_unsent', table_name='outbox', schema='audit', postgresql_where='sent_at IS NULL')
    op.drop_table('outbox', schema='audit')
    op.drop_index(op.f('ix_audit_audits_creator_id'), table_name='audits', schema='audit')
    op.drop_index(op.f('ix_audit_audits_created_at'), table_name='audits', schema='audit')
    op.drop_table('audits', schema='audit')
