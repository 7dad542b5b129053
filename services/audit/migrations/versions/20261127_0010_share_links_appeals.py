"""share_links (a creator's read-only view of its audit) and appeals (its objections), both
tenant-private

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = 'audit'
TENANT_COMMENT = 'The tenant that owns the row; filtered on by shared.tenancy.'


def upgrade() -> None:
    op.create_table(
        'share_links',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False, comment="Discovery's creator id."),
        sa.Column('token_hash', sa.String(length=64), nullable=False,
                  comment='SHA-256 (hex) of the token; the token itself is shown once and never stored.'),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT_COMMENT),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_share_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_share_links_token_hash')),
        schema=SCHEMA,
    )
    op.create_index('ix_audit_share_links_tenant_id_created_at_id', 'share_links', ['tenant_id', 'created_at', 'id'],
                    unique=False, schema=SCHEMA)
    op.create_table(
        'appeals',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('share_link_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False, comment="Discovery's creator id."),
        sa.Column('audit_id', sa.UUID(), nullable=False, comment='The audit appealed against.'),
        sa.Column('flag', sa.String(length=100), nullable=False, comment="One of the audit's flags, or a signal's name."),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('evidence_urls', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False,
                  comment='SHA-256 of audit, flag, comment and evidence: the same appeal sent again.'),
        sa.Column('status', sa.String(length=20), server_default='open', nullable=False, comment='open or resolved'),
        sa.Column('decision', sa.String(length=20), nullable=True, comment='upheld or rejected, once resolved.'),
        sa.Column('resolution_note', sa.Text(), nullable=True),
        sa.Column('resolved_by', sa.String(length=200), nullable=True, comment="The reviewer's credential subject."),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT_COMMENT),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f('ck_appeals_status')),
        sa.CheckConstraint("decision IS NULL OR decision IN ('upheld', 'rejected')", name=op.f('ck_appeals_decision')),
        sa.CheckConstraint("(status = 'resolved') = (decision IS NOT NULL)", name=op.f('ck_appeals_resolved_has_decision')),
        sa.ForeignKeyConstraint(['share_link_id'], [f'{SCHEMA}.share_links.id'],
                                name=op.f('fk_appeals_share_link_id_share_links')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
        schema=SCHEMA,
    )
    op.create_index('ix_audit_appeals_tenant_id_fingerprint_open', 'appeals', ['tenant_id', 'fingerprint'], unique=True,
                    schema=SCHEMA, postgresql_where=sa.text("status = 'open'"))
    for columns in (['created_at'], ['status', 'created_at'], ['creator_id', 'created_at'], ['audit_id', 'created_at']):
        name = 'ix_audit_appeals_tenant_id_' + '_'.join(columns) + '_id'
        op.create_index(name, 'appeals', ['tenant_id', *columns, 'id'], unique=False, schema=SCHEMA)


def downgrade() -> None:
    op.drop_table('appeals', schema=SCHEMA)
    op.drop_table('share_links', schema=SCHEMA)
