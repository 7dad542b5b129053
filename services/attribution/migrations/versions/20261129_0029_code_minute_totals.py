"""code minute totals: a campaign's credited orders per creator, code, UTC minute and shipping
country, so the leaked-code rule reads the hour an order is placed in, and the hour before, from
totals instead of the decisions themselves (docs/decisions/0064); the decisions' two indexes that
only the rule's reads of them used are dropped

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-29 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
NIL = '00000000-0000-0000-0000-000000000000'


def upgrade() -> None:
    op.create_table(
        'code_minute_totals',
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('code_key', sa.UUID(), nullable=False,
                  comment='The code credited (codes.id); the nil UUID: credited to a click.'),
        sa.Column('minute', sa.DateTime(timezone=True), nullable=False, comment='The UTC minute placed.'),
        sa.Column('country', sa.String(length=2), nullable=False, comment="Shipping country; '' when none."),
        sa.Column('orders', sa.BigInteger(), server_default='0', nullable=False, comment='Credited orders.'),
        sa.Column('without_click', sa.BigInteger(), server_default='0', nullable=False,
                  comment="... of which carried no click of the creator's."),
        sa.Column('new_customers', sa.BigInteger(), server_default='0', nullable=False,
                  comment='... of which by customers new to the brand.'),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment='The tenant that owns the row; filtered on by shared.tenancy.'),
        sa.PrimaryKeyConstraint('campaign_id', 'creator_id', 'code_key', 'minute', 'country',
                                name=op.f('pk_code_minute_totals')),
        schema=S,
    )
    op.create_index('ix_attribution_code_minute_totals_campaign_id_minute', 'code_minute_totals',
                    ['campaign_id', 'minute'], unique=False, schema=S)
    op.create_index('ix_attribution_code_minute_totals_code_key_minute', 'code_minute_totals',
                    ['code_key', 'minute'], unique=False, schema=S)
    # The decisions taken before this revision, counted as the hour totals counted them (0024).
    op.execute(f"""
        INSERT INTO attribution.code_minute_totals
            (tenant_id, campaign_id, creator_id, code_key, minute, country, orders, without_click, new_customers)
        SELECT tenant_id, campaign_id, creator_id, coalesce(code_id, '{NIL}'::uuid), date_trunc('minute', placed_at, 'UTC'),
               coalesce(shipping_country, ''), count(*), count(*) FILTER (WHERE without_creator_click),
               count(*) FILTER (WHERE new_customer)
        FROM attribution.order_credits
        WHERE outcome = 'credited' AND placed_at IS NOT NULL AND campaign_id IS NOT NULL AND creator_id IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6
    """)
    op.drop_index('ix_attribution_order_credits_campaign_id_placed_at', table_name='order_credits', schema=S,
                  postgresql_where=sa.text("outcome = 'credited'"))
    op.drop_index('ix_attribution_order_credits_code_id_placed_at', table_name='order_credits', schema=S,
                  postgresql_where=sa.text('code_id IS NOT NULL'))


def downgrade() -> None:
    op.create_index('ix_attribution_order_credits_code_id_placed_at', 'order_credits', ['code_id', 'placed_at'],
                    unique=False, schema=S, postgresql_where=sa.text('code_id IS NOT NULL'))
    op.create_index('ix_attribution_order_credits_campaign_id_placed_at', 'order_credits', ['campaign_id', 'placed_at'],
                    unique=False, schema=S, postgresql_where=sa.text("outcome = 'credited'"))
    op.drop_index('ix_attribution_code_minute_totals_code_key_minute', table_name='code_minute_totals', schema=S)
    op.drop_index('ix_attribution_code_minute_totals_campaign_id_minute', table_name='code_minute_totals', schema=S)
    op.drop_table('code_minute_totals', schema=S)
