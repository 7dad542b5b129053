"""content activations, their metric snapshots, and tenants' rate cards

Revision ID: 0017
Revises: 0015
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0017'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
TENANT = 'The tenant that owns the row; filtered on by shared.tenancy.'
METRICS = ('impressions', 'reach', 'views', 'likes', 'comments', 'shares', 'saves')


def upgrade() -> None:
    op.create_table(
        'activations',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False, comment='Enrolled in the campaign when recorded.'),
        sa.Column('platform', sa.String(length=20), nullable=False),
        sa.Column('format', sa.String(length=20), nullable=False,
                  comment="The deliverables' vocabulary (enrolment/schemas.py FORMATS)."),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.ForeignKeyConstraint(['campaign_id'], ['attribution.campaigns.id'], name=op.f('fk_activations_campaign_id_campaigns')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activations')),
        sa.UniqueConstraint('campaign_id', 'url', name=op.f('uq_activations_campaign_id_url')),
        schema=S,
    )
    op.create_index('ix_attribution_activations_campaign_id_created_at_id', 'activations',
                    ['campaign_id', 'created_at', 'id'], schema=S)
    op.create_table(
        'activation_snapshots',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('activation_id', sa.UUID(), nullable=False),
        sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('impressions', sa.BigInteger(), nullable=True, comment='Null: not reported.'),
        *(sa.Column(m, sa.BigInteger(), nullable=True) for m in METRICS[1:]),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        *(sa.CheckConstraint(f'{m} IS NULL OR {m} >= 0', name=op.f(f'ck_activation_snapshots_{m}_not_negative'))
          for m in METRICS),
        sa.ForeignKeyConstraint(['activation_id'], ['attribution.activations.id'], ondelete='CASCADE',
                                name=op.f('fk_activation_snapshots_activation_id_activations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_activation_snapshots')),
        sa.UniqueConstraint('activation_id', 'observed_at', name=op.f('uq_activation_snapshots_activation_id_observed_at')),
        schema=S,
    )
    op.create_table(
        'rate_cards',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False, comment='1, 2, ... per tenant; the highest is the one in use.'),
        sa.Column('currency', sa.String(length=3), nullable=False, comment='ISO 4217: every rate is in its minor units.'),
        sa.Column('rates', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment='{platform: {engagement: "minor units per unit, decimal text"}}'),
        sa.Column('source', sa.Text(), nullable=False, comment="Where the rates come from, in the tenant's words."),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.CheckConstraint('version >= 1', name=op.f('ck_rate_cards_version_positive')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_cards')),
        sa.UniqueConstraint('tenant_id', 'version', name=op.f('uq_rate_cards_tenant_id_version')),
        schema=S,
    )
    op.create_index('ix_attribution_rate_cards_tenant_id_created_at_id', 'rate_cards',
                    ['tenant_id', 'created_at', 'id'], schema=S)


def downgrade() -> None:
    op.drop_table('rate_cards', schema=S)
    op.drop_table('activation_snapshots', schema=S)
    op.drop_table('activations', schema=S)
