"""webhook sources and accepted delivery ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_sources",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="shopify | generic"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "shop_domain", sa.String(length=255), nullable=True, comment="Shopify only: <shop>.myshopify.com"
        ),
        sa.Column("secret_encrypted", sa.Text(), nullable=False, comment="Fernet token of the signing secret."),
        sa.Column(
            "secret_hint", sa.String(length=8), nullable=False,
            comment="Last characters of the secret, to recognise it.",
        ),
        sa.Column(
            "previous_secret_encrypted", sa.Text(), nullable=True,
            comment="Fernet token of the secret replaced by the last rotation, while it is still accepted.",
        ),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["gateway.tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        schema="gateway",
    )
    op.create_index(
        "ix_webhook_sources_tenant_created", "webhook_sources", ["tenant_id", "created_at", "id"],
        unique=False, schema="gateway",
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["gateway.webhook_sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("source_id", "delivery_id"),
        schema="gateway",
    )
    op.create_index(
        op.f("ix_gateway_webhook_deliveries_received_at"), "webhook_deliveries", ["received_at"],
        unique=False, schema="gateway",
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_gateway_webhook_deliveries_received_at"), table_name="webhook_deliveries", schema="gateway")
    op.drop_table("webhook_deliveries", schema="gateway")
    op.drop_index("ix_webhook_sources_tenant_created", table_name="webhook_sources", schema="gateway")
    op.drop_table("webhook_sources", schema="gateway")
