"""shortlist outreach: a stage per entry and the append-only history of its changes

Existing entries become prospects since they were added, and each gets the history row of its
arrival (from null to prospect, at its created_at), as entries added from now on do.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'discovery'
TENANT_COMMENT = 'The tenant that owns the row; filtered on by shared.tenancy.'
STAGES = "'prospect', 'contacted', 'replied', 'negotiating', 'contracted', 'declined'"


def upgrade() -> None:
    op.add_column(
        'shortlist_entries',
        sa.Column('stage', sa.String(length=20), server_default='prospect', nullable=False,
                  comment='Outreach stage (stages.py).'),
        schema=S,
    )
    op.add_column(
        'shortlist_entries',
        sa.Column('stage_changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False,
                  comment='When the entry reached its stage.'),
        schema=S,
    )
    op.execute(f'UPDATE {S}.shortlist_entries SET stage_changed_at = created_at')
    op.create_check_constraint(
        op.f('ck_shortlist_entries_stage_known'), 'shortlist_entries', f'stage IN ({STAGES})', schema=S,
    )
    op.create_index(
        'ix_discovery_shortlist_entries_shortlist_id_stage_created_at', 'shortlist_entries',
        ['shortlist_id', 'stage', 'created_at', 'creator_id'], unique=False, schema=S,
    )
    op.create_table(
        'shortlist_stage_changes',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column('shortlist_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('from_stage', sa.String(length=20), nullable=True, comment="Null for the entry's arrival."),
        sa.Column('to_stage', sa.String(length=20), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by', sa.Text(), nullable=False,
                  comment="Who made the change: the identity's subject (key:<id> or a user)."),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT_COMMENT),
        sa.CheckConstraint(f'to_stage IN ({STAGES})', name=op.f('ck_shortlist_stage_changes_to_stage_known')),
        sa.ForeignKeyConstraint(
            ['shortlist_id', 'creator_id'],
            [f'{S}.shortlist_entries.shortlist_id', f'{S}.shortlist_entries.creator_id'],
            name=op.f('fk_shortlist_stage_changes_shortlist_id_shortlist_entries'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlist_stage_changes')),
        schema=S,
    )
    op.create_index(
        'ix_discovery_shortlist_stage_changes_entry_at', 'shortlist_stage_changes',
        ['shortlist_id', 'creator_id', 'at', 'id'], unique=False, schema=S,
    )
    op.execute(
        f"INSERT INTO {S}.shortlist_stage_changes (shortlist_id, creator_id, from_stage, to_stage, at, by, tenant_id) "
        f"SELECT shortlist_id, creator_id, NULL, 'prospect', created_at, 'migration:0012', tenant_id "
        f"FROM {S}.shortlist_entries ORDER BY created_at, creator_id"
    )


def downgrade() -> None:
    op.drop_index('ix_discovery_shortlist_stage_changes_entry_at', table_name='shortlist_stage_changes', schema=S)
    op.drop_table('shortlist_stage_changes', schema=S)
    op.drop_index('ix_discovery_shortlist_entries_shortlist_id_stage_created_at', table_name='shortlist_entries', schema=S)
    op.drop_constraint(op.f('ck_shortlist_entries_stage_known'), 'shortlist_entries', schema=S, type_='check')
    op.drop_column('shortlist_entries', 'stage_changed_at', schema=S)
    op.drop_column('shortlist_entries', 'stage', schema=S)
