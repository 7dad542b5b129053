"""commission rules: versions of a campaign's rule and of per-creator overrides (never edited)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'


def _percent_in_range(column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f'{column} IS NULL OR ({column} >= 0 AND {column} <= 100)',
                              name=op.f(f'ck_commission_rules_{column}_in_range'))


def _not_negative(column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f'{column} IS NULL OR {column} >= 0', name=op.f(f'ck_commission_rules_{column}_not_negative'))


def upgrade() -> None:
    op.create_table(
        'commission_rules',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=True,
                  comment="NULL: the campaign's rule; else an override for this enrolled creator."),
        sa.Column('version', sa.Integer(), nullable=False,
                  comment="1, 2, ... within the campaign's rule or the creator's override."),
        sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False, comment="The campaign's currency when the version was made."),
        sa.Column('percent', sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column('flat_minor', sa.BigInteger(), nullable=True, comment='Per order, in minor units.'),
        sa.Column('include_tax', sa.Boolean(), nullable=False),
        sa.Column('include_shipping', sa.Boolean(), nullable=False),
        sa.Column('tiers', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment='[{"above": minor units, "percent": "12.5"}], increasing.'),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.Column('new_customer_percent', sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column('repeat_customer_percent', sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column('product_rates', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment='[{"match": "variant|product|sku|collection", "value", "percent"}]'),
        sa.Column('cap_per_order_minor', sa.BigInteger(), nullable=True),
        sa.Column('cap_per_period_minor', sa.BigInteger(), nullable=True, comment='Per creator per calendar month (UTC).'),
        sa.Column('holding_days', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment='The tenant that owns the row; filtered on by shared.tenancy.'),
        sa.CheckConstraint('version >= 1', name=op.f('ck_commission_rules_version_positive')),
        _percent_in_range('percent'),
        _percent_in_range('new_customer_percent'),
        _percent_in_range('repeat_customer_percent'),
        _not_negative('flat_minor'),
        _not_negative('cap_per_order_minor'),
        _not_negative('cap_per_period_minor'),
        sa.CheckConstraint('holding_days >= 0', name=op.f('ck_commission_rules_holding_days_not_negative')),
        sa.CheckConstraint('window_days >= 1', name=op.f('ck_commission_rules_window_days_positive')),
        sa.ForeignKeyConstraint(['campaign_id'], ['attribution.campaigns.id'],
                                name=op.f('fk_commission_rules_campaign_id_campaigns')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_commission_rules')),
        sa.UniqueConstraint('campaign_id', 'creator_id', 'version', name=op.f('uq_commission_rules_campaign_id_creator_id_version'),
                            postgresql_nulls_not_distinct=True),
        schema=S,
    )
    op.create_index('ix_attribution_commission_rules_scope_effective_from', 'commission_rules',
                    ['campaign_id', 'creator_id', 'effective_from'], unique=False, schema=S)


def downgrade() -> None:
    op.drop_index('ix_attribution_commission_rules_scope_effective_from', table_name='commission_rules', schema=S)
    op.drop_table('commission_rules', schema=S)
