"""shared rate-limit buckets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # UNLOGGED: rewritten on every lease, worthless after a crash (docs/decisions/0014).
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(length=200), nullable=False, comment="key:<key id> or tenant:<id>:sub:<subject>."),
        sa.Column("tokens", sa.Double(), nullable=False, comment="Tokens left at refilled_at."),
        sa.Column("granted", sa.Integer(), nullable=False, comment="Tokens handed out by the last lease."),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        schema="gateway",
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("rate_buckets", schema="gateway")
