"""report lines: the platform a code or link is shared on, and a tenant's dated exchange rates

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
TENANT = 'The tenant that owns the row; filtered on by shared.tenancy.'
PLATFORM = "Where the creator shares it (instagram, tiktok...): the reports' platform; null: not said."


def upgrade() -> None:
    op.add_column('codes', sa.Column('platform', sa.String(length=20), nullable=True, comment=PLATFORM), schema=S)
    op.add_column('links', sa.Column('platform', sa.String(length=20), nullable=True, comment=PLATFORM), schema=S)
    op.create_table(
        'fx_rates',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('base', sa.String(length=3), nullable=False, comment='ISO 4217: one unit of it...'),
        sa.Column('quote', sa.String(length=3), nullable=False, comment='...is `rate` units of this one (ISO 4217).'),
        sa.Column('on_date', sa.Date(), nullable=False, comment='The day the rate is for; it holds until a later one.'),
        sa.Column('rate', sa.Numeric(precision=30, scale=12), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False, comment='Where the tenant took it from ("ECB reference rate").'),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.CheckConstraint('rate > 0', name=op.f('ck_fx_rates_rate_positive')),
        sa.CheckConstraint('base <> quote', name=op.f('ck_fx_rates_two_currencies')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fx_rates')),
        sa.UniqueConstraint('tenant_id', 'base', 'quote', 'on_date', name=op.f('uq_fx_rates_tenant_id_base_quote_on_date')),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table('fx_rates', schema=S)
    op.drop_column('links', 'platform', schema=S)
    op.drop_column('codes', 'platform', schema=S)
