"""brand_safety_lists: a tenant's own keyword lists, the first tenant-private table of audit

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = 'audit'
TENANT_COMMENT = 'The tenant that owns the row; filtered on by shared.tenancy.'


def upgrade() -> None:
    op.create_table(
        'brand_safety_lists',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False, comment='A default category or the tenant\'s own.'),
        sa.Column('terms', postgresql.ARRAY(sa.Text()), nullable=False, comment='As the tenant wrote them.'),
        sa.Column('exclude_default_categories', postgresql.ARRAY(sa.String(length=40)), server_default='{}',
                  nullable=False, comment="Default-list categories the tenant's checks skip while this list exists."),
        sa.Column('revision', sa.Integer(), server_default='1', nullable=False,
                  comment='Raised by each change: a check names the revision it applied.'),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT_COMMENT),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_brand_safety_lists')),
        sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_brand_safety_lists_tenant_id_name')),
        schema=SCHEMA,
    )
    op.create_index(
        'ix_audit_brand_safety_lists_tenant_id_created_at_id', 'brand_safety_lists', ['tenant_id', 'created_at', 'id'],
        unique=False, schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index('ix_audit_brand_safety_lists_tenant_id_created_at_id', table_name='brand_safety_lists', schema=SCHEMA)
    op.drop_table('brand_safety_lists', schema=SCHEMA)
