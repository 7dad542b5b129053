"""shortlists: a tenant's own lists of creators, the first tenant-private tables of discovery

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_COMMENT = 'The tenant that owns the row; filtered on by shared.tenancy.'


def upgrade() -> None:
    op.create_table(
        'shortlists',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT_COMMENT),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlists')),
        sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_shortlists_tenant_id_name')),
        schema='discovery',
    )
    op.create_index(
        'ix_discovery_shortlists_tenant_id_created_at_id', 'shortlists', ['tenant_id', 'created_at', 'id'],
        unique=False, schema='discovery',
    )
    op.create_table(
        'shortlist_entries',
        sa.Column('shortlist_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('tags', postgresql.ARRAY(sa.String(length=50)), server_default='{}', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT_COMMENT),
        sa.ForeignKeyConstraint(
            ['creator_id'], ['discovery.creators.id'],
            name=op.f('fk_shortlist_entries_creator_id_creators'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['shortlist_id'], ['discovery.shortlists.id'],
            name=op.f('fk_shortlist_entries_shortlist_id_shortlists'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('shortlist_id', 'creator_id', name=op.f('pk_shortlist_entries')),
        schema='discovery',
    )
    op.create_index(
        'ix_discovery_shortlist_entries_shortlist_id_created_at', 'shortlist_entries',
        ['shortlist_id', 'created_at', 'creator_id'], unique=False, schema='discovery',
    )
    op.create_index(
        'ix_discovery_shortlist_entries_creator_id', 'shortlist_entries', ['creator_id'],
        unique=False, schema='discovery',
    )


def downgrade() -> None:
    op.drop_index('ix_discovery_shortlist_entries_creator_id', table_name='shortlist_entries', schema='discovery')
    op.drop_index('ix_discovery_shortlist_entries_shortlist_id_created_at', table_name='shortlist_entries', schema='discovery')
    op.drop_table('shortlist_entries', schema='discovery')
    op.drop_index('ix_discovery_shortlists_tenant_id_created_at_id', table_name='shortlists', schema='discovery')
    op.drop_table('shortlists', schema='discovery')
