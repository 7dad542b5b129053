"""campaigns: the first tenant-private table of attribution; idempotency_keys for its POST routes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'campaigns',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('brand', sa.String(length=200), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('budget', sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False, comment='ISO 4217 code.'),
        sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column(
            'tenant_id', sa.UUID(), nullable=False,
            comment='The tenant that owns the row; filtered on by shared.tenancy.',
        ),
        sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_campaigns_ends_on_or_after_start')),
        sa.CheckConstraint('budget >= 0', name=op.f('ck_campaigns_budget_not_negative')),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'paused', 'ended')", name=op.f('ck_campaigns_status_known')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
        schema='attribution',
    )
    op.create_index(
        'ix_attribution_campaigns_tenant_id_created_at_id', 'campaigns', ['tenant_id', 'created_at', 'id'],
        unique=False, schema='attribution',
    )
    op.create_index(
        'ix_attribution_campaigns_tenant_id_status_created_at_id', 'campaigns',
        ['tenant_id', 'status', 'created_at', 'id'], unique=False, schema='attribution',
    )
    # As discovery's (its revision 0004): Idempotency-Key on POST routes (ADR 0010), per tenant.
    op.create_table(
        'idempotency_keys',
        sa.Column('owner', sa.String(length=100), nullable=False, comment="Who the key belongs to (tenant); '' until tenants exist."),
        sa.Column('route', sa.String(length=300), nullable=False, comment='Method and route template.'),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False, comment='sha256 of method, path, query and body.'),
        sa.Column('status_code', sa.Integer(), nullable=False),
        sa.Column('response_body', sa.Text(), nullable=False),
        sa.Column('response_headers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('owner', 'route', 'key', name=op.f('pk_idempotency_keys')),
        schema='attribution',
    )
    op.create_index(
        op.f('ix_attribution_idempotency_keys_expires_at'), 'idempotency_keys', ['expires_at'],
        unique=False, schema='attribution',
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_attribution_idempotency_keys_expires_at'), table_name='idempotency_keys', schema='attribution')
    op.drop_table('idempotency_keys', schema='attribution')
    op.drop_index('ix_attribution_campaigns_tenant_id_status_created_at_id', table_name='campaigns', schema='attribution')
    op.drop_index('ix_attribution_campaigns_tenant_id_created_at_id', table_name='campaigns', schema='attribution')
    op.drop_table('campaigns', schema='attribution')
