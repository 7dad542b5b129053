"""processed_events.consumer holds a consumer group id: name it consumer_group

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-26 12:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A rename keeps the rows, the primary key and its index: no rewrite, no dedupe gap.
    op.alter_column('processed_events', 'consumer', new_column_name='consumer_group', schema='attribution')


def downgrade() -> None:
    op.alter_column('processed_events', 'consumer_group', new_column_name='consumer', schema='attribution')
