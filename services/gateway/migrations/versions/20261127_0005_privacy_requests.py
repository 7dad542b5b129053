"""privacy requests: data-subject exports and erasures asked through the gateway (ADR 0054)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="export | erasure"),
        sa.Column("subject_type", sa.String(length=16), nullable=False, comment="customer | creator"),
        sa.Column("subject_hint", sa.String(length=200), nullable=False,
                  comment="Masked: a***@example.com, customer id …42, a creator id."),
        sa.Column("requested_by", sa.String(length=200), nullable=False,
                  comment="The credential's subject (a key id or a user)."),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["gateway.tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
        schema="gateway",
    )
    op.create_index("ix_privacy_requests_tenant_created", "privacy_requests", ["tenant_id", "created_at", "id"],
                    schema="gateway")


def downgrade() -> None:
    op.drop_index("ix_privacy_requests_tenant_created", table_name="privacy_requests", schema="gateway")
    op.drop_table("privacy_requests", schema="gateway")
