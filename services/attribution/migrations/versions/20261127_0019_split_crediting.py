"""split crediting: every model selectable per campaign (with its parameters), each credited
order's shares under a multi-touch model (one revision per re-computation), and clawback claims
scoped to one creator's part

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
TENANT = 'The tenant that owns the row; filtered on by shared.tenancy.'
MODELS = "('last_touch', 'first_touch', 'linear', 'time_decay', 'position_based', 'markov', 'shapley')"


def upgrade() -> None:
    op.drop_constraint(op.f('ck_campaigns_attribution_model_known'), 'campaigns', schema=S, type_='check')
    op.create_check_constraint(op.f('ck_campaigns_attribution_model_known'), 'campaigns',
                               f"attribution_model IN {MODELS}", schema=S)
    op.alter_column('campaigns', 'attribution_model', schema=S,
                    comment='The model that credits orders (services/attribution/models): one of MODEL_NAMES.')
    op.add_column('campaigns', sa.Column(
        'attribution_params', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
        nullable=False, comment="The model's parameters as set (half-life, position weights, Markov order...)."), schema=S)
    op.add_column('clawback_claims', sa.Column(
        'creator_id', sa.UUID(), nullable=True,
        comment="Only this creator's commission lines of the order (a split order); NULL: any, in line-key order."),
        schema=S)
    op.create_table(
        'credit_shares',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('order_ref', sa.UUID(), nullable=False, comment='attribution.orders.id'),
        sa.Column('revision', sa.Integer(), nullable=False,
                  comment='1 when the order was credited; each re-computation adds the next.'),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('share', sa.Text(), nullable=False, comment='The exact fraction, "1/3" (time decay\'s run to 80 digits).'),
        sa.Column('commission_minor', sa.BigInteger(), nullable=False,
                  comment="The creator's part of the order's commission before refunds, minor units."),
        sa.Column('line_key', sa.String(length=255), nullable=False, comment="The creator's commission line in the ledger."),
        sa.Column('model', sa.String(length=20), nullable=False),
        sa.Column('model_version', sa.String(length=40), nullable=False),
        sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('basis', sa.Text(), nullable=False, comment='How the shares were computed (the fit, or the rule).'),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.ForeignKeyConstraint(['order_ref'], [f'{S}.orders.id'], name=op.f('fk_credit_shares_order_ref_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_shares')),
        sa.UniqueConstraint('order_ref', 'revision', 'creator_id', name=op.f('uq_credit_shares_order_ref_revision_creator_id')),
        schema=S,
    )
    op.create_index('ix_attribution_credit_shares_tenant_id_campaign_id', 'credit_shares', ['tenant_id', 'campaign_id'],
                    unique=False, schema=S)


def downgrade() -> None:
    op.drop_index('ix_attribution_credit_shares_tenant_id_campaign_id', table_name='credit_shares', schema=S)
    op.drop_table('credit_shares', schema=S)
    op.drop_column('clawback_claims', 'creator_id', schema=S)
    op.drop_column('campaigns', 'attribution_params', schema=S)
    op.execute(f"UPDATE {S}.campaigns SET attribution_model = 'last_touch' "
               "WHERE attribution_model NOT IN ('last_touch', 'first_touch')")
    op.drop_constraint(op.f('ck_campaigns_attribution_model_known'), 'campaigns', schema=S, type_='check')
    op.create_check_constraint(op.f('ck_campaigns_attribution_model_known'), 'campaigns',
                               "attribution_model IN ('last_touch', 'first_touch')", schema=S)
    op.alter_column('campaigns', 'attribution_model', schema=S,
                    comment='last_touch or first_touch among the touches that remain.')
