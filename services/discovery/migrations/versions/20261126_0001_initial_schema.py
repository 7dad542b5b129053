"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 07:36:07.972360
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
    op.create_table('creators',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('handle', sa.String(length=100), nullable=False, comment="Lower-cased, without '@'."),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('follower_count', sa.BigInteger(), nullable=True),
    sa.Column('audit_id', sa.UUID(), nullable=True),
    sa.Column('audit_status', sa.String(length=20), nullable=True),
    sa.Column('audit_score', sa.Float(), nullable=True),
    sa.Column('audit_updated_at', sa.DateTime(timezone=True), nullable=True, comment='occurred_at of the last audit event applied.'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_creators')),
    sa.UniqueConstraint('platform', 'handle', name=op.f('uq_creators_platform_handle')),
    schema='discovery'
    )
    op.create_index(op.f('ix_discovery_creators_created_at'), 'creators', ['created_at'], unique=False, schema='discovery')
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
    schema='discovery'
    )
    op.create_index('ix_outbox_unsent', 'outbox', ['id'], unique=False, schema='discovery', postgresql_where='sent_at IS NULL')
    op.create_index('ix_outbox_sent_at', 'outbox', ['sent_at'], unique=False, schema='discovery', postgresql_where='sent_at IS NOT NULL')
    op.create_table('processed_events',
    sa.Column('consumer', sa.String(length=100), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('topic', sa.String(length=249), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_processed_events')),
    schema='discovery'
    )
    op.create_index(op.f('ix_discovery_processed_events_processed_at'), 'processed_events', ['processed_at'], unique=False, schema='discovery')


def downgrade() -> None:
    op.drop_index(op.f('ix_discovery_processed_events_processed_at'), table_name='processed_events', schema='discovery')
    op.drop_table('processed_events', schema='discovery')
    op.drop_index('ix_outbox_sent_at', table_name='outbox', schema='discovery', postgresql_where='sent_at IS NOT NULL')
    op.drop_index('ix_outbox_unsent', table_name='outbox', schema='discovery', postgresql_where='sent_at IS NULL')
    op.drop_table('outbox', schema='discovery')
    op.drop_index(op.f('ix_discovery_creators_created_at'), table_name='creators', schema='discovery')
    op.drop_table('creators', schema='discovery')
