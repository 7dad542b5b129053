"""holdout tests: where orders ship (country and ISO 3166-2 region, nothing else of the address)
and the holdout tests' designs

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
TENANT = 'The tenant that owns the row; filtered on by shared.tenancy.'


def upgrade() -> None:
    # Nullable, no default: orders stored before this revision did not keep their address, and
    # saying "unknown" is the truth for them (a holdout test counts only orders it can place).
    op.add_column('orders', sa.Column(
        'shipping_country', sa.String(length=2), nullable=True,
        comment='ISO 3166-1 alpha-2 country of the shipping address; nothing else of it is kept.'), schema=S)
    op.add_column('orders', sa.Column(
        'shipping_region', sa.String(length=6), nullable=True,
        comment='ISO 3166-2 region of the shipping address (US-CA): its country and province code.'), schema=S)
    op.create_index('ix_attribution_orders_tenant_id_shipping_country_placed_at', 'orders',
                    ['tenant_id', 'shipping_country', 'placed_at'], unique=False, schema=S,
                    postgresql_where=sa.text('shipping_country IS NOT NULL'))
    op.create_table(
        'holdout_tests',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('campaign_id', sa.UUID(), nullable=True,
                  comment="Whose attributed revenue is shown beside the lift; null: every campaign's."),
        sa.Column('unit', sa.String(length=10), nullable=False,
                  comment='region (ISO 3166-2, US-CA) or country (ISO 3166-1 alpha-2).'),
        sa.Column('treatment', postgresql.ARRAY(sa.String(length=6)), nullable=False, comment='The units where creators ran.'),
        sa.Column('control', postgresql.ARRAY(sa.String(length=6)), nullable=False, comment='The units held out.'),
        sa.Column('pre_start', sa.Date(), nullable=False, comment='First UTC day of the pre-period.'),
        sa.Column('pre_end', sa.Date(), nullable=False, comment='Last UTC day of the pre-period (included).'),
        sa.Column('test_start', sa.Date(), nullable=False, comment='First UTC day of the test period.'),
        sa.Column('test_end', sa.Date(), nullable=False, comment='Last UTC day of the test period (included).'),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.CheckConstraint("unit IN ('region', 'country')", name=op.f('ck_holdout_tests_unit_known')),
        sa.CheckConstraint('pre_start <= pre_end AND test_start <= test_end AND pre_end < test_start',
                           name=op.f('ck_holdout_tests_periods_ordered')),
        sa.ForeignKeyConstraint(['campaign_id'], ['attribution.campaigns.id'],
                                name=op.f('fk_holdout_tests_campaign_id_campaigns')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_holdout_tests')),
        schema=S,
    )
    op.create_index('ix_attribution_holdout_tests_tenant_id_created_at_id', 'holdout_tests',
                    ['tenant_id', 'created_at', 'id'], unique=False, schema=S)


def downgrade() -> None:
    op.drop_index('ix_attribution_holdout_tests_tenant_id_created_at_id', table_name='holdout_tests', schema=S)
    op.drop_table('holdout_tests', schema=S)
    op.drop_index('ix_attribution_orders_tenant_id_shipping_country_placed_at', table_name='orders', schema=S,
                  postgresql_where=sa.text('shipping_country IS NOT NULL'))
    op.drop_column('orders', 'shipping_region', schema=S)
    op.drop_column('orders', 'shipping_country', schema=S)
