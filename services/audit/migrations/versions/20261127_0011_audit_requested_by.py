"""an audit remembers the workspace whose request set its disclosure settings: another
workspace never changes them, and never sees the sponsors it named (ADR 0053)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = 'audit'


def upgrade() -> None:
    op.add_column('audits', sa.Column(
        'requested_by', sa.UUID(), nullable=True,
        comment="The workspace whose request set jurisdictions and sponsors; null: none did (the defaults). "
                "Only it sees the sponsors."), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column('audits', 'requested_by', schema=SCHEMA)
