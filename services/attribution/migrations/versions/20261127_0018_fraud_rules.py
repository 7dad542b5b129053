"""fraud rules: a tenant's thresholds, creators' own customer keys, reviews of held orders, and
each click's network (a keyed hash of its /24 or /48) for the click-burst rule

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
TENANT = 'The tenant that owns the row; filtered on by shared.tenancy.'


def upgrade() -> None:
    op.create_table(
        'fraud_settings',
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.Column('thresholds', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment='Every threshold of fraud/rules.py Thresholds, as set.'),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_fraud_settings')),
        schema=S,
    )
    op.create_table(
        'creator_customer_keys',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('customer_key', sa.String(length=64), nullable=False, comment='Keyed hash, as orders.customer_key.'),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_creator_customer_keys')),
        sa.UniqueConstraint('tenant_id', 'creator_id', 'customer_key',
                            name=op.f('uq_creator_customer_keys_tenant_id_creator_id_customer_key')),
        schema=S,
    )
    op.create_table(
        'fraud_reviews',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('order_ref', sa.UUID(), nullable=False, comment='attribution.orders.id'),
        sa.Column('source', sa.String(length=100), nullable=False, comment="The ledger's source of the order."),
        sa.Column('order_id', sa.String(length=255), nullable=False, comment="The partner's order id."),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('findings', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment='The rules that fired: rule, reason, evidence.'),
        sa.Column('thresholds', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment='The thresholds the order was judged by.'),
        sa.Column('status', sa.String(length=10), server_default='held', nullable=False),
        sa.Column('decided_by', sa.String(length=255), nullable=True, comment="The identity's subject that decided."),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.CheckConstraint("status IN ('held', 'approved', 'rejected')", name=op.f('ck_fraud_reviews_status_known')),
        sa.CheckConstraint(
            "(status = 'held' AND decided_at IS NULL AND decided_by IS NULL) OR "
            "(status <> 'held' AND decided_at IS NOT NULL AND decided_by IS NOT NULL)",
            name=op.f('ck_fraud_reviews_decision_shape')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_reviews')),
        sa.UniqueConstraint('order_ref', name=op.f('uq_fraud_reviews_order_ref')),
        schema=S,
    )
    op.create_index('ix_attribution_fraud_reviews_tenant_id_status_created_at', 'fraud_reviews',
                    ['tenant_id', 'status', 'created_at', 'id'], unique=False, schema=S)
    op.create_index('ix_attribution_fraud_reviews_held_order', 'fraud_reviews', ['tenant_id', 'source', 'order_id'],
                    unique=False, schema=S, postgresql_where=sa.text("status = 'held'"))
    op.add_column('clicks', sa.Column(
        'network_hash', sa.String(length=64), nullable=True,
        comment='HMAC-SHA256 of the address\'s /24 (IPv4) or /48 (IPv6) network; never the network.'), schema=S)
    op.create_index('ix_attribution_clicks_creator_id_network_hash_clicked_at', 'clicks',
                    ['creator_id', 'network_hash', 'clicked_at'], unique=False, schema=S,
                    postgresql_where=sa.text('network_hash IS NOT NULL'))
    op.create_index('ix_attribution_clicks_creator_id_visitor_hash_clicked_at', 'clicks',
                    ['creator_id', 'visitor_hash', 'clicked_at'], unique=False, schema=S)
    op.create_index('ix_attribution_order_credits_code_id_placed_at', 'order_credits', ['code_id', 'placed_at'],
                    unique=False, schema=S, postgresql_where=sa.text('code_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_attribution_order_credits_code_id_placed_at', table_name='order_credits', schema=S,
                  postgresql_where=sa.text('code_id IS NOT NULL'))
    op.drop_index('ix_attribution_clicks_creator_id_visitor_hash_clicked_at', table_name='clicks', schema=S)
    op.drop_index('ix_attribution_clicks_creator_id_network_hash_clicked_at', table_name='clicks', schema=S,
                  postgresql_where=sa.text('network_hash IS NOT NULL'))
    op.drop_column('clicks', 'network_hash', schema=S)
    op.drop_index('ix_attribution_fraud_reviews_held_order', table_name='fraud_reviews', schema=S,
                  postgresql_where=sa.text("status = 'held'"))
    op.drop_index('ix_attribution_fraud_reviews_tenant_id_status_created_at', table_name='fraud_reviews', schema=S)
    op.drop_table('fraud_reviews', schema=S)
    op.drop_table('creator_customer_keys', schema=S)
    op.drop_table('fraud_settings', schema=S)
