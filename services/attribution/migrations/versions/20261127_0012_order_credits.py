"""order credits: each order's credit decision (the winning touch, the rule version, its inputs)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'


def upgrade() -> None:
    op.create_table(
        'order_credits',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('order_ref', sa.UUID(), nullable=False, comment='attribution.orders.id'),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=True),
        sa.Column('campaign_id', sa.UUID(), nullable=True),
        sa.Column('touch_kind', sa.String(length=10), nullable=True, comment='code or click'),
        sa.Column('touch_label', sa.String(length=255), nullable=True, comment="The code as typed, or the link's slug."),
        sa.Column('code_id', sa.UUID(), nullable=True),
        sa.Column('explanation', sa.Text(), nullable=False, comment='Every candidate touch and why it won or lost.'),
        sa.Column('rule_id', sa.UUID(), nullable=True, comment='The rule version in force when placed.'),
        sa.Column('revenue_in_window_minor', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('new_customer', sa.Boolean(), server_default='true', nullable=False),
        sa.Column('earned_in_period_minor', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('commission_minor', sa.BigInteger(), server_default='0', nullable=False, comment='Before refunds.'),
        sa.Column('commission_explanation', sa.Text(), server_default='', nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment='The tenant that owns the row; filtered on by shared.tenancy.'),
        sa.CheckConstraint("outcome IN ('credited', 'unattributed')", name=op.f('ck_order_credits_outcome_known')),
        sa.ForeignKeyConstraint(['order_ref'], ['attribution.orders.id'], name=op.f('fk_order_credits_order_ref_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_credits')),
        sa.UniqueConstraint('order_ref', name='uq_order_credits_order_ref'),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table('order_credits', schema=S)
