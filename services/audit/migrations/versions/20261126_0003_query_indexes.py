"""query indexes: the audit list's keyset order, alone and by creator or status; pending audits by creator

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 12:58:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_audit_audits_creator_id', table_name='audits', schema='audit')
    op.drop_index('ix_audit_audits_created_at', table_name='audits', schema='audit')
    op.create_index('ix_audit_audits_created_at_id', 'audits', ['created_at', 'id'], unique=False, schema='audit')
    op.create_index('ix_audit_audits_creator_id_created_at_id', 'audits', ['creator_id', 'created_at', 'id'], unique=False, schema='audit')
    op.create_index('ix_audit_audits_status_created_at_id', 'audits', ['status', 'created_at', 'id'], unique=False, schema='audit')
    op.create_index('ix_audit_audits_pending_creator_id', 'audits', ['creator_id'], unique=False, schema='audit', postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index('ix_audit_audits_pending_creator_id', table_name='audits', schema='audit', postgresql_where=sa.text("status = 'pending'"))
    op.drop_index('ix_audit_audits_status_created_at_id', table_name='audits', schema='audit')
    op.drop_index('ix_audit_audits_creator_id_created_at_id', table_name='audits', schema='audit')
    op.drop_index('ix_audit_audits_created_at_id', table_name='audits', schema='audit')
    op.create_index('ix_audit_audits_created_at', 'audits', ['created_at'], unique=False, schema='audit')
    op.create_index('ix_audit_audits_creator_id', 'audits', ['creator_id'], unique=False, schema='audit')
