"""code hour totals: a campaign's credited orders per creator, code, UTC hour and shipping country
(the leaked-code rule's inputs), and what each credit decision adds to them

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
NIL = '00000000-0000-0000-0000-000000000000'
UUID_TEXT = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'


def upgrade() -> None:
    op.create_table(
        'code_hour_totals',
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('code_key', sa.UUID(), nullable=False,
                  comment='The code credited (codes.id); the nil UUID: credited to a click.'),
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False, comment='The UTC hour placed.'),
        sa.Column('country', sa.String(length=2), nullable=False, comment="Shipping country; '' when none."),
        sa.Column('orders', sa.BigInteger(), server_default='0', nullable=False, comment='Credited orders.'),
        sa.Column('without_click', sa.BigInteger(), server_default='0', nullable=False,
                  comment="... of which carried no click of the creator's."),
        sa.Column('new_customers', sa.BigInteger(), server_default='0', nullable=False,
                  comment='... of which by customers new to the brand.'),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment='The tenant that owns the row; filtered on by shared.tenancy.'),
        sa.PrimaryKeyConstraint('campaign_id', 'creator_id', 'code_key', 'hour', 'country', name=op.f('pk_code_hour_totals')),
        schema=S,
    )
    op.create_index('ix_attribution_code_hour_totals_campaign_id_hour', 'code_hour_totals', ['campaign_id', 'hour'],
                    unique=False, schema=S)
    op.add_column('order_credits', sa.Column(
        'shipping_country', sa.String(length=2), nullable=True,
        comment="The order's shipping country when it was credited (the leaked-code rule's spread)."), schema=S)
    op.add_column('order_credits', sa.Column(
        'without_creator_click', sa.Boolean(), nullable=True,
        comment="Credited carrying no click of the creator's (the leaked-code rule's share); null: not credited."), schema=S)
    op.create_index('ix_attribution_order_credits_campaign_id_placed_at', 'order_credits', ['campaign_id', 'placed_at'],
                    unique=False, schema=S, postgresql_where=sa.text("outcome = 'credited'"))
    # The decisions taken before this revision, with the facts the rule read from them then. A
    # click id is looked up by the clicks' primary key (the order's text ids that are UUIDs), so
    # the fill costs an index probe per id, not a scan of the clicks per order.
    op.execute(f"""
        UPDATE attribution.order_credits c
        SET shipping_country = o.shipping_country,
            without_creator_click = cardinality(o.click_ids) = 0 OR NOT EXISTS (
                SELECT 1 FROM unnest(o.click_ids) AS given(id)
                JOIN attribution.clicks k
                  ON k.id = CASE WHEN lower(given.id) ~ '{UUID_TEXT}' THEN lower(given.id)::uuid END
                WHERE k.creator_id = c.creator_id)
        FROM attribution.orders o
        WHERE o.id = c.order_ref AND c.outcome = 'credited'
    """)
    op.execute(f"""
        INSERT INTO attribution.code_hour_totals
            (tenant_id, campaign_id, creator_id, code_key, hour, country, orders, without_click, new_customers)
        SELECT tenant_id, campaign_id, creator_id, coalesce(code_id, '{NIL}'::uuid), date_trunc('hour', placed_at, 'UTC'),
               coalesce(shipping_country, ''), count(*), count(*) FILTER (WHERE without_creator_click),
               count(*) FILTER (WHERE new_customer)
        FROM attribution.order_credits
        WHERE outcome = 'credited' AND placed_at IS NOT NULL AND campaign_id IS NOT NULL AND creator_id IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5, 6
    """)


def downgrade() -> None:
    op.drop_index('ix_attribution_order_credits_campaign_id_placed_at', table_name='order_credits', schema=S)
    op.drop_column('order_credits', 'without_creator_click', schema=S)
    op.drop_column('order_credits', 'shipping_country', schema=S)
    op.drop_index('ix_attribution_code_hour_totals_campaign_id_hour', table_name='code_hour_totals', schema=S)
    op.drop_table('code_hour_totals', schema=S)
