"""audit inputs and runner: projections of discovery's creators, posts and follower counts;
follower samples and comments; pods; audits get their result, a lease and one active per creator

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = 'audit'
ACTIVE = "status IN ('pending', 'running')"


def upgrade() -> None:
    op.create_table('creators',
    sa.Column('creator_id', sa.UUID(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False, comment="The primary account's platform."),
    sa.Column('handle', sa.String(length=100), nullable=False, comment="The primary account's handle."),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('primary_account_id', sa.UUID(), nullable=True, comment='The account of `accounts` matching platform + handle, when listed.'),
    sa.Column('followers', sa.BigInteger(), nullable=True),
    sa.Column('following', sa.BigInteger(), nullable=True),
    sa.Column('posts_count', sa.BigInteger(), nullable=True),
    sa.Column('accounts', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False, comment="discovery's AccountSnapshot list."),
    sa.Column('sequence', sa.BigInteger(), nullable=True, comment='Sequence of the CreatorCreated/CreatorChanged event applied last (ADR 0003).'),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('creator_id', name=op.f('pk_creators')),
    schema=SCHEMA
    )
    op.create_table('posts',
    sa.Column('post_id', sa.UUID(), nullable=False),
    sa.Column('creator_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('caption', sa.Text(), nullable=True),
    sa.Column('hashtags', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('mentions', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('likes', sa.BigInteger(), nullable=True),
    sa.Column('comments', sa.BigInteger(), nullable=True),
    sa.Column('views', sa.BigInteger(), nullable=True),
    sa.Column('paid_partnership', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('sponsored', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=True, comment='Sequence of the PostsObserved applied last.'),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_posts')),
    schema=SCHEMA
    )
    op.create_index('ix_audit_posts_creator_id_posted_at', 'posts', ['creator_id', 'posted_at'], unique=False, schema=SCHEMA)
    op.create_index('ix_audit_posts_platform_external_id', 'posts', ['platform', 'external_id'], unique=False, schema=SCHEMA)
    op.create_table('follower_points',
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('creator_id', sa.UUID(), nullable=False),
    sa.Column('followers', sa.BigInteger(), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=True, comment='Sequence of the event that gave this value.'),
    sa.PrimaryKeyConstraint('account_id', 'observed_at', name=op.f('pk_follower_points')),
    schema=SCHEMA
    )
    op.create_index('ix_audit_follower_points_creator_id_observed_at', 'follower_points', ['creator_id', 'observed_at'], unique=False, schema=SCHEMA)
    op.create_table('follower_samples',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('creator_id', sa.UUID(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False, comment='SHA-256 of the sample\'s profiles: the same sample sent again adds no version.'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follower_samples')),
    schema=SCHEMA
    )
    op.create_index('ix_audit_follower_samples_creator_id_created_at', 'follower_samples', ['creator_id', 'created_at'], unique=False, schema=SCHEMA)
    op.create_table('sample_followers',
    sa.Column('sample_id', sa.UUID(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('biography', sa.Text(), nullable=True),
    sa.Column('media_count', sa.BigInteger(), nullable=True),
    sa.Column('follower_count', sa.BigInteger(), nullable=True),
    sa.Column('following_count', sa.BigInteger(), nullable=True),
    sa.Column('has_profile_pic', sa.Boolean(), nullable=True),
    sa.Column('is_private', sa.Boolean(), nullable=True),
    sa.Column('is_verified', sa.Boolean(), nullable=True),
    sa.Column('external_url', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['sample_id'], [f'{SCHEMA}.follower_samples.id'], name=op.f('fk_sample_followers_sample_id_follower_samples'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sample_id', 'username', name=op.f('pk_sample_followers')),
    schema=SCHEMA
    )
    op.create_table('comments',
    sa.Column('post_id', sa.UUID(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False, comment='SHA-256 of author, text and time: what makes a comment the same one.'),
    sa.Column('creator_id', sa.UUID(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False, comment="Lower-cased, without '@'."),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_key', sa.Text(), nullable=False, comment='The text normalised (case, spaces) to compare across posts.'),
    sa.Column('commented_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('post_id', 'key', name=op.f('pk_comments')),
    schema=SCHEMA
    )
    op.create_index('ix_audit_comments_creator_id', 'comments', ['creator_id'], unique=False, schema=SCHEMA)
    op.create_index('ix_audit_comments_text_key', 'comments', ['text_key'], unique=False, schema=SCHEMA)
    op.create_table('pods',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('members', postgresql.ARRAY(sa.Text()), nullable=False, comment='Commenting accounts, sorted.'),
    sa.Column('creators', postgresql.ARRAY(sa.UUID()), nullable=False, comment='Creators involved, sorted.'),
    sa.Column('co_comments', sa.Integer(), nullable=False),
    sa.Column('posts', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pods')),
    schema=SCHEMA
    )
    op.create_index('ix_audit_pods_creators', 'pods', ['creators'], unique=False, schema=SCHEMA, postgresql_using='gin')
    op.create_table('pods_state',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('dirty_since', sa.DateTime(timezone=True), nullable=True, comment='First comment ingest not yet reflected in `pods`.'),
    sa.Column('last_ingest_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comments_read', sa.Integer(), nullable=True, comment='Comments the last run read.'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pods_state')),
    schema=SCHEMA
    )

    op.add_column('audits', sa.Column('grade', sa.String(length=5), nullable=True), schema=SCHEMA)
    op.add_column('audits', sa.Column('confidence', sa.Float(), nullable=True), schema=SCHEMA)
    op.add_column('audits', sa.Column('audience_quality', sa.Float(), nullable=True), schema=SCHEMA)
    op.add_column('audits', sa.Column('signals', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False, comment='Every signal, judged or not.'), schema=SCHEMA)
    op.add_column('audits', sa.Column('versions', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False, comment='model, rules and benchmark versions.'), schema=SCHEMA)
    op.add_column('audits', sa.Column('samples', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False, comment='Sizes of what the audit read.'), schema=SCHEMA)
    op.add_column('audits', sa.Column('window_start', sa.DateTime(timezone=True), nullable=True), schema=SCHEMA)
    op.add_column('audits', sa.Column('window_end', sa.DateTime(timezone=True), nullable=True), schema=SCHEMA)
    op.add_column('audits', sa.Column('follower_sample_id', sa.UUID(), nullable=True, comment='The follower sample version the audit read.'), schema=SCHEMA)
    op.add_column('audits', sa.Column('run_after', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False, comment='A pending audit is not run before this.'), schema=SCHEMA)
    op.add_column('audits', sa.Column('attempts', sa.Integer(), server_default='0', nullable=False, comment='Runs started (claims).'), schema=SCHEMA)
    op.add_column('audits', sa.Column('lease_token', sa.UUID(), nullable=True, comment='Set by each claim.'), schema=SCHEMA)
    op.add_column('audits', sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True, comment='A running audit past this is claimable again (its runner died).'), schema=SCHEMA)
    op.add_column('audits', sa.Column('rerun_requested', sa.Boolean(), server_default='false', nullable=False, comment='Data changed materially while running: audit again after.'), schema=SCHEMA)
    op.add_column('audits', sa.Column('started_at', sa.DateTime(timezone=True), nullable=True), schema=SCHEMA)
    op.add_column('audits', sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True), schema=SCHEMA)
    op.alter_column('audits', 'status', comment='pending, running, completed or failed', existing_comment='pending, completed or failed', existing_type=sa.String(length=20), existing_nullable=False, schema=SCHEMA)
    # Older code could leave two pending audits of one creator (a creator created twice): all
    # but the newest are failed with the reason, so the unique index below can hold.
    op.execute(
        f"""
        update {SCHEMA}.audits a set status = 'failed', failure_reason = 'superseded by a newer pending audit of the creator'
        where a.status = 'pending' and exists (
            select 1 from {SCHEMA}.audits b where b.creator_id = a.creator_id and b.status = 'pending'
            and (b.created_at, b.id) > (a.created_at, a.id))
        """
    )
    op.create_check_constraint('status', 'audits', "status IN ('pending', 'running', 'completed', 'failed')", schema=SCHEMA)
    op.drop_index('ix_audit_audits_pending_creator_id', table_name='audits', schema=SCHEMA, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_audit_audits_pending_creator_id', 'audits', ['creator_id'], unique=True, schema=SCHEMA, postgresql_where=sa.text(ACTIVE))
    op.create_index('ix_audit_audits_due', 'audits', ['run_after'], unique=False, schema=SCHEMA, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_audit_audits_leased', 'audits', ['lease_expires_at'], unique=False, schema=SCHEMA, postgresql_where=sa.text("status = 'running'"))


def downgrade() -> None:
    op.drop_index('ix_audit_audits_leased', table_name='audits', schema=SCHEMA, postgresql_where=sa.text("status = 'running'"))
    op.drop_index('ix_audit_audits_due', table_name='audits', schema=SCHEMA, postgresql_where=sa.text("status = 'pending'"))
    op.drop_index('ix_audit_audits_pending_creator_id', table_name='audits', schema=SCHEMA, postgresql_where=sa.text(ACTIVE))
    op.drop_constraint('ck_audits_status', 'audits', schema=SCHEMA)
    # The old code knows no running audit: back to the queue.
    op.execute(f"update {SCHEMA}.audits set status = 'pending' where status = 'running'")
    op.create_index('ix_audit_audits_pending_creator_id', 'audits', ['creator_id'], unique=False, schema=SCHEMA, postgresql_where=sa.text("status = 'pending'"))
    op.alter_column('audits', 'status', comment='pending, completed or failed', existing_comment='pending, running, completed or failed', existing_type=sa.String(length=20), existing_nullable=False, schema=SCHEMA)
    for column in ('finished_at', 'started_at', 'rerun_requested', 'lease_expires_at', 'lease_token', 'attempts', 'run_after',
                   'follower_sample_id', 'window_end', 'window_start', 'samples', 'versions', 'signals', 'audience_quality',
                   'confidence', 'grade'):
        op.drop_column('audits', column, schema=SCHEMA)
    op.drop_table('pods_state', schema=SCHEMA)
    op.drop_index('ix_audit_pods_creators', table_name='pods', schema=SCHEMA, postgresql_using='gin')
    op.drop_table('pods', schema=SCHEMA)
    op.drop_index('ix_audit_comments_text_key', table_name='comments', schema=SCHEMA)
    op.drop_index('ix_audit_comments_creator_id', table_name='comments', schema=SCHEMA)
    op.drop_table('comments', schema=SCHEMA)
    op.drop_table('sample_followers', schema=SCHEMA)
    op.drop_index('ix_audit_follower_samples_creator_id_created_at', table_name='follower_samples', schema=SCHEMA)
    op.drop_table('follower_samples', schema=SCHEMA)
    op.drop_index('ix_audit_follower_points_creator_id_observed_at', table_name='follower_points', schema=SCHEMA)
    op.drop_table('follower_points', schema=SCHEMA)
    op.drop_index('ix_audit_posts_platform_external_id', table_name='posts', schema=SCHEMA)
    op.drop_index('ix_audit_posts_creator_id_posted_at', table_name='posts', schema=SCHEMA)
    op.drop_table('posts', schema=SCHEMA)
    op.drop_table('creators', schema=SCHEMA)
