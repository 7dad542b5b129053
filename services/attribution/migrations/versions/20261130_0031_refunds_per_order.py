"""a partner's refund is one per (order, refund id), not per refund id across the source's orders

Partners that number refunds per order ("1", "2", ... for each order) sent the same refund id for
two orders; the second refund met the first's unique key and was dropped as a repeat, so that
order kept its whole commission. The ledger's claims were already keyed by order
(`clawback_claims` (tenant_id, source, order_id, refund_id)). The new key starts with the old
index's columns, which it replaces.

Deploying: stop the old attribution processes before this runs (`./limelight up` and `migrate`
do; ADR 0056 asks the same of a rolling deploy). Their refunds' INSERT names the dropped key,
so an old consumer left running would dead-letter every refund until it is replaced (the
dead letters can then be replayed: `./limelight dlq replay`).

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-30 05:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'


def upgrade() -> None:
    op.create_unique_constraint('uq_order_refunds_order_refund', 'order_refunds',
                                ['tenant_id', 'source', 'source_id', 'order_id', 'refund_id'], schema=S)
    op.drop_constraint('uq_order_refunds_partner_refund', 'order_refunds', schema=S, type_='unique')
    op.drop_index('ix_attribution_order_refunds_order', table_name='order_refunds', schema=S)


def downgrade() -> None:
    # Refused where a refund id now names refunds of two orders: the old key cannot hold them.
    op.create_index('ix_attribution_order_refunds_order', 'order_refunds', ['tenant_id', 'source', 'source_id', 'order_id'],
                    schema=S)
    op.create_unique_constraint('uq_order_refunds_partner_refund', 'order_refunds',
                                ['tenant_id', 'source', 'source_id', 'refund_id'], schema=S)
    op.drop_constraint('uq_order_refunds_order_refund', 'order_refunds', schema=S, type_='unique')
