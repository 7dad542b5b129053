"""partner orders: orders, their refunds and cancellations as partners send them (gateway.webhook.v1)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
def tenant() -> sa.Column:
    return sa.Column('tenant_id', sa.UUID(), nullable=False, comment='The tenant that owns the row; filtered on by shared.tenancy.')


def upgrade() -> None:
    op.create_table(
        'orders',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('source_id', sa.UUID(), nullable=False, comment="The gateway's webhook source."),
        sa.Column('order_id', sa.String(length=255), nullable=False, comment="The partner's order id."),
        sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('lines', postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment='The line items as parsed: amounts in minor units.'),
        sa.Column('subtotal_minor', sa.BigInteger(), nullable=True),
        sa.Column('discounts_minor', sa.BigInteger(), nullable=True),
        sa.Column('tax_minor', sa.BigInteger(), nullable=True),
        sa.Column('shipping_minor', sa.BigInteger(), nullable=True),
        sa.Column('total_minor', sa.BigInteger(), nullable=True),
        sa.Column('taxes_included', sa.Boolean(), nullable=False),
        sa.Column('customer_key', sa.String(length=64), nullable=True, comment='Keyed hash of the customer; never the e-mail.'),
        sa.Column('codes', postgresql.ARRAY(sa.String(length=255)), nullable=False),
        sa.Column('click_ids', postgresql.ARRAY(sa.String(length=255)), nullable=False),
        sa.Column('landing_site', sa.Text(), nullable=True),
        sa.Column('referring_site', sa.Text(), nullable=True),
        sa.Column('financial_status', sa.String(length=64), nullable=True),
        sa.Column('test', sa.Boolean(), nullable=False),
        sa.Column('notes', postgresql.ARRAY(sa.Text()), nullable=False, comment="What did not add up in the partner's totals."),
        sa.Column('partner_updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('basis_minor', sa.BigInteger(), nullable=False, comment='The commission basis now, after refunds.'),
        sa.Column('basis_before_refunds_minor', sa.BigInteger(), nullable=False),
        sa.Column('basis_explanation', sa.Text(), nullable=False),
        sa.Column('last_delivery_id', sa.String(length=255), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        tenant(),
        sa.CheckConstraint("source IN ('shopify', 'generic')", name=op.f('ck_orders_source_known')),
        sa.CheckConstraint("state IN ('open', 'cancelled')", name=op.f('ck_orders_state_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
        sa.UniqueConstraint('tenant_id', 'source', 'source_id', 'order_id', name='uq_orders_partner_order'),
        schema=S,
    )
    op.create_index('ix_attribution_orders_tenant_id_placed_at_id', 'orders', ['tenant_id', 'placed_at', 'id'], unique=False, schema=S)
    op.create_table(
        'order_refunds',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('source_id', sa.UUID(), nullable=False),
        sa.Column('order_id', sa.String(length=255), nullable=False, comment="The partner's order id: the order may not have arrived yet."),
        sa.Column('refund_id', sa.String(length=255), nullable=False),
        sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('lines', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('shipping_minor', sa.BigInteger(), nullable=False),
        sa.Column('adjustment_minor', sa.BigInteger(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('delivery_id', sa.String(length=255), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        tenant(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_refunds')),
        sa.UniqueConstraint('tenant_id', 'source', 'source_id', 'refund_id', name='uq_order_refunds_partner_refund'),
        schema=S,
    )
    op.create_index('ix_attribution_order_refunds_order', 'order_refunds', ['tenant_id', 'source', 'source_id', 'order_id'], unique=False, schema=S)
    op.create_table(
        'order_cancellations',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('source_id', sa.UUID(), nullable=False),
        sa.Column('order_id', sa.String(length=255), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=255), nullable=True),
        sa.Column('delivery_id', sa.String(length=255), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        tenant(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_cancellations')),
        sa.UniqueConstraint('tenant_id', 'source', 'source_id', 'order_id', name='uq_order_cancellations_partner_order'),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table('order_cancellations', schema=S)
    op.drop_index('ix_attribution_order_refunds_order', table_name='order_refunds', schema=S)
    op.drop_table('order_refunds', schema=S)
    op.drop_index('ix_attribution_orders_tenant_id_placed_at_id', table_name='orders', schema=S)
    op.drop_table('orders', schema=S)
