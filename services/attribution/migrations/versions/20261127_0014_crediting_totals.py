"""crediting totals: creators' credited orders per UTC day (the rules' inputs), the sales records
due for publishing, campaigns' attribution settings, and the indexes crediting reads

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'


def upgrade() -> None:
    op.create_table(
        'creator_day_totals',
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('day', sa.Date(), nullable=False, comment='The UTC day the orders were placed.'),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('orders', sa.BigInteger(), server_default='0', nullable=False, comment='Credited orders.'),
        sa.Column('revenue_minor', sa.BigInteger(), server_default='0', nullable=False,
                  comment='Their commission basis now (after refunds; 0 once cancelled).'),
        sa.Column('commission_minor', sa.BigInteger(), server_default='0', nullable=False,
                  comment="Their commission as credited (before refunds): the cap's measure."),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment='The tenant that owns the row; filtered on by shared.tenancy.'),
        sa.PrimaryKeyConstraint('creator_id', 'currency', 'day', 'campaign_id', name=op.f('pk_creator_day_totals')),
        schema=S,
    )
    op.create_table(
        'performance_due',
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('version', sa.BigInteger(), server_default='1', nullable=False, comment='Bumped by each change noted.'),
        sa.Column('since', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('creator_id', 'currency', name=op.f('pk_performance_due')),
        schema=S,
    )
    op.add_column('order_credits', sa.Column(
        'revenue_counted_minor', sa.BigInteger(), server_default='0', nullable=False,
        comment="What the order adds to its creator's day total now (creator_day_totals)."), schema=S)
    op.add_column('order_credits', sa.Column(
        'placed_at', sa.DateTime(timezone=True), nullable=True,
        comment="The order's time when it was credited: its rule, window and hold are from it."), schema=S)
    op.add_column('order_credits', sa.Column(
        'counted_on', sa.Date(), nullable=True,
        comment="The UTC day whose total counts the order (its day when credited); null: not counted yet."), schema=S)
    op.add_column('order_credits', sa.Column(
        'attribution_model', sa.String(length=20), server_default='last_touch', nullable=False,
        comment='The model that chose the touch (the campaign\'s setting then).'), schema=S)
    op.add_column('campaigns', sa.Column(
        'attribution_precedence', sa.String(length=10), server_default='code', nullable=False,
        comment='code, link or recency: which kind of touch wins (crediting/credit.py).'), schema=S)
    op.add_column('campaigns', sa.Column(
        'attribution_model', sa.String(length=20), server_default='last_touch', nullable=False,
        comment='last_touch or first_touch among the touches that remain.'), schema=S)
    op.create_check_constraint(op.f('ck_campaigns_attribution_precedence_known'), 'campaigns',
                               "attribution_precedence IN ('code', 'link', 'recency')", schema=S)
    op.create_check_constraint(op.f('ck_campaigns_attribution_model_known'), 'campaigns',
                               "attribution_model IN ('last_touch', 'first_touch')", schema=S)
    op.create_index('ix_attribution_clicks_creator_id_unflagged', 'clicks', ['creator_id'], unique=False, schema=S,
                    postgresql_where=sa.text('NOT flagged'))
    op.create_index('ix_attribution_orders_tenant_id_customer_key_placed_at', 'orders',
                    ['tenant_id', 'customer_key', 'placed_at'], unique=False, schema=S,
                    postgresql_where=sa.text('customer_key IS NOT NULL'))
    op.create_index('ix_attribution_ledger_entries_creator_id_currency', 'ledger_entries', ['creator_id', 'currency'],
                    unique=False, schema=S)
    # The orders credited before this revision, into the totals, as crediting now keeps them.
    op.execute("""
        INSERT INTO attribution.creator_day_totals
            (tenant_id, creator_id, currency, day, campaign_id, orders, revenue_minor, commission_minor)
        SELECT c.tenant_id, c.creator_id, o.currency, (o.placed_at AT TIME ZONE 'UTC')::date, c.campaign_id,
               count(*), sum(o.basis_minor), sum(c.commission_minor)
        FROM attribution.order_credits c JOIN attribution.orders o ON o.id = c.order_ref
        WHERE c.outcome = 'credited'
        GROUP BY c.tenant_id, c.creator_id, o.currency, (o.placed_at AT TIME ZONE 'UTC')::date, c.campaign_id
    """)
    op.execute("""
        UPDATE attribution.order_credits c
        SET revenue_counted_minor = o.basis_minor, counted_on = (o.placed_at AT TIME ZONE 'UTC')::date
        FROM attribution.orders o WHERE o.id = c.order_ref AND c.outcome = 'credited'
    """)
    op.execute("""
        UPDATE attribution.order_credits c SET placed_at = o.placed_at
        FROM attribution.orders o WHERE o.id = c.order_ref
    """)


def downgrade() -> None:
    op.drop_index('ix_attribution_ledger_entries_creator_id_currency', table_name='ledger_entries', schema=S)
    op.drop_index('ix_attribution_orders_tenant_id_customer_key_placed_at', table_name='orders', schema=S,
                  postgresql_where=sa.text('customer_key IS NOT NULL'))
    op.drop_index('ix_attribution_clicks_creator_id_unflagged', table_name='clicks', schema=S,
                  postgresql_where=sa.text('NOT flagged'))
    op.drop_constraint(op.f('ck_campaigns_attribution_model_known'), 'campaigns', schema=S, type_='check')
    op.drop_constraint(op.f('ck_campaigns_attribution_precedence_known'), 'campaigns', schema=S, type_='check')
    op.drop_column('campaigns', 'attribution_model', schema=S)
    op.drop_column('campaigns', 'attribution_precedence', schema=S)
    op.drop_column('order_credits', 'attribution_model', schema=S)
    op.drop_column('order_credits', 'counted_on', schema=S)
    op.drop_column('order_credits', 'placed_at', schema=S)
    op.drop_column('order_credits', 'revenue_counted_minor', schema=S)
    op.drop_table('performance_due', schema=S)
    op.drop_table('creator_day_totals', schema=S)
