"""tenants and API keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("plan", sa.String(length=40), server_default="standard", nullable=False),
        sa.Column(
            "operator", sa.Boolean(), server_default="false", nullable=False,
            comment="The installation's operator workspace: its admin keys manage tenants.",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="gateway",
    )
    op.create_index(op.f("ix_gateway_tenants_updated_at"), "tenants", ["updated_at"], unique=False, schema="gateway")
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "prefix", sa.String(length=40), nullable=False, comment="The visible start of the key, e.g. ll_live_3fQ9xK2a."
        ),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("environment", sa.String(length=8), server_default="live", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rotated_to", sa.Uuid(), nullable=True, comment="The key that replaced this one, if rotated."),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["gateway.tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
        schema="gateway",
    )
    op.create_index("ix_api_keys_tenant_created", "api_keys", ["tenant_id", "created_at", "id"], unique=False, schema="gateway")
    op.create_index(op.f("ix_gateway_api_keys_updated_at"), "api_keys", ["updated_at"], unique=False, schema="gateway")


def downgrade() -> None:
    op.drop_index(op.f("ix_gateway_api_keys_updated_at"), table_name="api_keys", schema="gateway")
    op.drop_index("ix_api_keys_tenant_created", table_name="api_keys", schema="gateway")
    op.drop_table("api_keys", schema="gateway")
    op.drop_index(op.f("ix_gateway_tenants_updated_at"), table_name="tenants", schema="gateway")
    op.drop_table("tenants", schema="gateway")
