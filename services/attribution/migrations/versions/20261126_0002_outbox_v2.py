"""outbox v2: exact record bytes, per-aggregate sequence numbers, parked rows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = 'attribution'


def upgrade() -> None:
    op.create_table('outbox_sequences',
    sa.Column('topic', sa.String(length=249), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('topic', 'key', name=op.f('pk_outbox_sequences')),
    schema=SCHEMA
    )
    op.add_column('outbox', sa.Column('sequence', sa.BigInteger(), nullable=True, comment="The envelope's sequence within (topic, key); null on rows older than it."), schema=SCHEMA)
    op.add_column('outbox', sa.Column('value', sa.LargeBinary(), nullable=True, comment='The record value exactly as the relay sends it: the envelope as UTF-8 JSON.'), schema=SCHEMA)
    op.add_column('outbox', sa.Column('correlation_id', sa.Text(), nullable=True), schema=SCHEMA)
    op.add_column('outbox', sa.Column('parked_at', sa.DateTime(timezone=True), nullable=True, comment='Set when the broker refused the row for good; last_error says why.'), schema=SCHEMA)
    # Rows written before this revision are sent as their stored JSON (valid, just spaced).
    op.execute(
        f"update {SCHEMA}.outbox set value = convert_to(envelope::text, 'UTF8'), "
        "correlation_id = envelope->>'correlation_id'"
    )
    op.alter_column('outbox', 'value', nullable=False, schema=SCHEMA)
    op.drop_column('outbox', 'envelope', schema=SCHEMA)
    op.drop_index('ix_outbox_unsent', table_name='outbox', schema=SCHEMA, postgresql_where='sent_at IS NULL')
    op.create_index('ix_outbox_unsent', 'outbox', ['id'], unique=False, schema=SCHEMA, postgresql_where='sent_at IS NULL AND parked_at IS NULL')
    op.create_index('ix_outbox_parked', 'outbox', ['parked_at'], unique=False, schema=SCHEMA, postgresql_where='parked_at IS NOT NULL')


def downgrade() -> None:
    op.drop_index('ix_outbox_parked', table_name='outbox', schema=SCHEMA, postgresql_where='parked_at IS NOT NULL')
    op.drop_index('ix_outbox_unsent', table_name='outbox', schema=SCHEMA, postgresql_where='sent_at IS NULL AND parked_at IS NULL')
    op.create_index('ix_outbox_unsent', 'outbox', ['id'], unique=False, schema=SCHEMA, postgresql_where='sent_at IS NULL')
    op.add_column('outbox', sa.Column('envelope', postgresql.JSONB(astext_type=sa.Text()), nullable=True), schema=SCHEMA)
    # Parked rows go back to the queue: the old relay has no other place for them.
    op.execute(f"update {SCHEMA}.outbox set envelope = convert_from(value, 'UTF8')::jsonb")
    op.alter_column('outbox', 'envelope', nullable=False, schema=SCHEMA)
    op.drop_column('outbox', 'parked_at', schema=SCHEMA)
    op.drop_column('outbox', 'correlation_id', schema=SCHEMA)
    op.drop_column('outbox', 'value', schema=SCHEMA)
    op.drop_column('outbox', 'sequence', schema=SCHEMA)
    op.drop_table('outbox_sequences', schema=SCHEMA)
