"""order_refunds.settled: whether settlement has applied the refund to its order's commission

Settlement measures each new refund from what the order earns after the refunds applied before
it (whenever they arrived) to what it earns with this one too. Which refunds were applied was
read from the ledger's claims, but a refund whose fall was 0 (a cap still binding, shipping not
in the basis) writes no claim, so it was measured again later against the wrong set: with caps,
refunds arriving out of order clawed back more or less than all of them take. Every refund of an
order that exists has been through settlement (it runs after every message about the order), so
those are marked settled; one kept ahead of its order is not, until the order arrives, nor one in
another currency than its order's (never counted). Stop the consumers of the code before this
revision first (docs/decisions/0056): one left running marks nothing. Settlement also counts as
settled a refund with a claim of its own, so such a consumer cannot make a refund be clawed back
twice; a refund it saw take nothing may be measured again.
docs/decisions/0060-basis-rules-stamped-per-order.md.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-29 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'


def upgrade() -> None:
    op.add_column('order_refunds', sa.Column(
        'settled', sa.Boolean(), server_default='false', nullable=False,
        comment="Applied to its order's commission by settlement (crediting/settlement.py)."), schema=S)
    op.execute(
        "UPDATE attribution.order_refunds r SET settled = true WHERE EXISTS (SELECT 1 FROM attribution.orders o"
        " WHERE o.tenant_id = r.tenant_id AND o.source = r.source AND o.source_id = r.source_id AND o.order_id = r.order_id"
        " AND o.currency = r.currency)")


def downgrade() -> None:
    op.drop_column('order_refunds', 'settled', schema=S)
