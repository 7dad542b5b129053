"""orders.basis_rules: the commission basis rules an order is computed under, stamped when it is
first stored and kept for its whole life

Orders stored before this revision keep rules 1 (what they were credited under); orders the code
stores from now on are stamped 2, which take money a refund returns that no line explains from the lines
(so the commission falls and is clawed back) and leave gift cards sold out of the basis. Changing
the rules of an order already credited would change what it earns on its next message.
docs/decisions/0060-basis-rules-stamped-per-order.md.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-29 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
COMMENT = 'The commission basis rules (orders/basis.py) the order is computed under: stamped when first stored.'


def upgrade() -> None:
    # Existing rows take 1 (a constant default: no rewrite of the table). The default stays 1: the
    # code stamps every order it stores, so a row written without the column comes from a replica
    # still running the code before this revision, which computed it under rules 1.
    op.add_column('orders', sa.Column('basis_rules', sa.SmallInteger(), server_default='1', nullable=False,
                                      comment=COMMENT), schema=S)
    op.create_check_constraint(op.f('ck_orders_basis_rules_known'), 'orders', 'basis_rules IN (1, 2)', schema=S)


def downgrade() -> None:
    # The stamps are lost: upgrading again stamps every order 1, those stored under rules 2 too.
    op.drop_constraint(op.f('ck_orders_basis_rules_known'), 'orders', schema=S, type_='check')
    op.drop_column('orders', 'basis_rules', schema=S)
