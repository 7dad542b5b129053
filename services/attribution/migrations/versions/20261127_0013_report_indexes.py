"""report indexes: clicks, credited orders, ledger entries and enrolments by campaign and by creator

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
CREDITED = sa.text("outcome = 'credited'")


def upgrade() -> None:
    op.create_index('ix_attribution_clicks_tenant_id_campaign_id_clicked_at', 'clicks',
                    ['tenant_id', 'campaign_id', 'clicked_at'], schema=S,
                    postgresql_include=['creator_id', 'is_unique', 'flagged'])
    op.create_index('ix_attribution_clicks_tenant_id_creator_id_clicked_at', 'clicks',
                    ['tenant_id', 'creator_id', 'clicked_at'], schema=S,
                    postgresql_include=['campaign_id', 'is_unique', 'flagged'])
    op.create_index('ix_attribution_order_credits_tenant_id_campaign_id_creator_id', 'order_credits',
                    ['tenant_id', 'campaign_id', 'creator_id'], schema=S,
                    postgresql_include=['order_ref'], postgresql_where=CREDITED)
    op.create_index('ix_attribution_order_credits_tenant_id_creator_id_campaign_id', 'order_credits',
                    ['tenant_id', 'creator_id', 'campaign_id'], schema=S,
                    postgresql_include=['order_ref'], postgresql_where=CREDITED)
    op.create_index('ix_attribution_ledger_entries_campaign_creator_currency', 'ledger_entries',
                    ['tenant_id', 'campaign_id', 'creator_id', 'currency'], schema=S)
    op.create_index('ix_attribution_enrolments_tenant_id_creator_id', 'enrolments', ['tenant_id', 'creator_id'], schema=S)


def downgrade() -> None:
    op.drop_index('ix_attribution_enrolments_tenant_id_creator_id', table_name='enrolments', schema=S)
    op.drop_index('ix_attribution_ledger_entries_campaign_creator_currency', table_name='ledger_entries', schema=S)
    op.drop_index('ix_attribution_order_credits_tenant_id_creator_id_campaign_id', table_name='order_credits', schema=S)
    op.drop_index('ix_attribution_order_credits_tenant_id_campaign_id_creator_id', table_name='order_credits', schema=S)
    op.drop_index('ix_attribution_clicks_tenant_id_creator_id_clicked_at', table_name='clicks', schema=S)
    op.drop_index('ix_attribution_clicks_tenant_id_campaign_id_clicked_at', table_name='clicks', schema=S)
