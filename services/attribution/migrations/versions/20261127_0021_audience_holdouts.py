"""audience holdouts: a share of a link's visitors held out at the redirect (sent to a control
destination, never credited), and each click's group

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-27 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
TENANT = 'The tenant that owns the row; filtered on by shared.tenancy.'


def upgrade() -> None:
    op.create_table(
        'audience_holdouts',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('link_ids', postgresql.ARRAY(sa.UUID()), nullable=False, comment="The tracked links whose visitors are split."),
        sa.Column('holdout_share', sa.Numeric(precision=5, scale=4), nullable=False,
                  comment='The share of visitors held out (the control group), 0.01-0.5.'),
        sa.Column('control_destination', sa.Text(), nullable=True,
                  comment="Where a held-out visitor is sent; null: the link's destination without its UTM tagging."),
        sa.Column('starts_on', sa.Date(), nullable=False, comment='First UTC day visitors are split.'),
        sa.Column('ends_on', sa.Date(), nullable=False, comment='Last UTC day visitors are split (included).'),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_audience_holdouts_period_ordered')),
        sa.CheckConstraint('holdout_share > 0 AND holdout_share < 1', name=op.f('ck_audience_holdouts_share_between')),
        sa.ForeignKeyConstraint(['campaign_id'], [f'{S}.campaigns.id'], name=op.f('fk_audience_holdouts_campaign_id_campaigns')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audience_holdouts')),
        schema=S,
    )
    op.create_index('ix_attribution_audience_holdouts_tenant_id_created_at_id', 'audience_holdouts',
                    ['tenant_id', 'created_at', 'id'], unique=False, schema=S)
    op.create_index('ix_attribution_audience_holdouts_link_ids', 'audience_holdouts', ['link_ids'], unique=False,
                    schema=S, postgresql_using='gin')
    op.add_column('clicks', sa.Column('holdout_id', sa.UUID(), nullable=True,
                                      comment='The audience holdout that split this visitor, if any.'), schema=S)
    op.add_column('clicks', sa.Column('holdout_group', sa.String(length=10), nullable=True,
                                      comment='treatment or control (held out: never credited).'), schema=S)
    op.create_index('ix_attribution_clicks_holdout_id', 'clicks', ['holdout_id'], unique=False, schema=S,
                    postgresql_where=sa.text('holdout_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_attribution_clicks_holdout_id', table_name='clicks', schema=S,
                  postgresql_where=sa.text('holdout_id IS NOT NULL'))
    op.drop_column('clicks', 'holdout_group', schema=S)
    op.drop_column('clicks', 'holdout_id', schema=S)
    op.drop_index('ix_attribution_audience_holdouts_link_ids', table_name='audience_holdouts', schema=S,
                  postgresql_using='gin')
    op.drop_index('ix_attribution_audience_holdouts_tenant_id_created_at_id', table_name='audience_holdouts', schema=S)
    op.drop_table('audience_holdouts', schema=S)
