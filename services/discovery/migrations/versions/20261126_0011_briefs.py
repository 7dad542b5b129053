"""briefs: a tenant's saved brand-fit briefs

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_COMMENT = 'The tenant that owns the row; filtered on by shared.tenancy.'


def upgrade() -> None:
    op.create_table(
        'briefs',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column(
            'brief', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
            comment='The brief as the API takes it (brandfit.schemas.Brief).',
        ),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT_COMMENT),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_briefs')),
        sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_briefs_tenant_id_name')),
        schema='discovery',
    )
    op.create_index(
        'ix_discovery_briefs_tenant_id_created_at_id', 'briefs', ['tenant_id', 'created_at', 'id'],
        unique=False, schema='discovery',
    )


def downgrade() -> None:
    op.drop_index('ix_discovery_briefs_tenant_id_created_at_id', table_name='briefs', schema='discovery')
    op.drop_table('briefs', schema='discovery')
