"""affiliate codes, tracked links and their clicks

Codes are unique per tenant whatever their case: a unique index on (tenant_id, upper(code)).
Link slugs are unique installation-wide: /r/{slug} carries no tenant. A click keeps a keyed hash
of the client address, never the address.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = 'The tenant that owns the row; filtered on by shared.tenancy.'


def _common() -> list[sa.Column]:
    return [
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False, comment="Discovery's creator id."),
    ]


def _tail() -> list[sa.Column]:
    return [
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
    ]


def upgrade() -> None:
    op.create_table(
        'codes',
        *_common(),
        sa.Column('code', sa.String(length=32), nullable=False, comment='As chosen or generated; matched case-insensitively.'),
        sa.Column('origin', sa.String(length=10), nullable=False, comment='chosen (vanity) or generated (from pattern).'),
        sa.Column('pattern', sa.String(length=64), nullable=True, comment='The pattern a generated code came from.'),
        sa.Column('usage_limit', sa.BigInteger(), nullable=True, comment='Orders it may be credited on; null: no limit.'),
        sa.Column('uses', sa.BigInteger(), server_default='0', nullable=False, comment='Orders credited through it so far.'),
        *_tail(),
        sa.CheckConstraint("origin IN ('chosen', 'generated')", name=op.f('ck_codes_origin_known')),
        sa.CheckConstraint('usage_limit IS NULL OR usage_limit >= 1', name=op.f('ck_codes_usage_limit_positive')),
        sa.CheckConstraint('uses >= 0', name=op.f('ck_codes_uses_not_negative')),
        sa.ForeignKeyConstraint(['campaign_id'], ['attribution.campaigns.id'], name=op.f('fk_codes_campaign_id_campaigns')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_codes')),
        schema='attribution',
    )
    op.create_index('ix_attribution_codes_tenant_id_created_at_id', 'codes', ['tenant_id', 'created_at', 'id'], schema='attribution')
    op.create_index('ix_attribution_codes_campaign_id_creator_id', 'codes', ['campaign_id', 'creator_id'], schema='attribution')
    op.create_index(
        'uq_attribution_codes_tenant_id_upper_code', 'codes', ['tenant_id', sa.text('upper(code)')], unique=True, schema='attribution'
    )
    op.create_table(
        'links',
        *_common(),
        sa.Column('slug', sa.String(length=32), nullable=False, comment='16 URL-safe characters: 96 random bits.'),
        sa.Column('destination', sa.Text(), nullable=False, comment='The URL as the brand gave it.'),
        sa.Column('utm', postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment='The UTM parameters asked for, by name.'),
        sa.Column(
            'target', sa.Text(), nullable=False,
            comment='destination with the UTM parameters it did not already have; the redirect adds ll_click.',
        ),
        sa.Column('window_days', sa.Integer(), nullable=False, comment='Days after a click an order may be credited to it.'),
        *_tail(),
        sa.CheckConstraint('window_days BETWEEN 1 AND 365', name=op.f('ck_links_window_days_bounded')),
        sa.ForeignKeyConstraint(['campaign_id'], ['attribution.campaigns.id'], name=op.f('fk_links_campaign_id_campaigns')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_links')),
        sa.UniqueConstraint('slug', name=op.f('uq_links_slug')),
        schema='attribution',
    )
    op.create_index('ix_attribution_links_tenant_id_created_at_id', 'links', ['tenant_id', 'created_at', 'id'], schema='attribution')
    op.create_index('ix_attribution_links_campaign_id_creator_id', 'links', ['campaign_id', 'creator_id'], schema='attribution')

    op.create_table(
        'clicks',
        sa.Column('id', sa.UUID(), nullable=False, comment='The click id the redirect appends as ll_click.'),
        sa.Column('link_id', sa.UUID(), nullable=False),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('clicked_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column(
            'visitor_hash', sa.String(length=64), nullable=True,
            comment='HMAC-SHA256 of the client address under ATTRIBUTION_HASH_KEY; never the address.',
        ),
        sa.Column('user_agent', sa.String(length=512), nullable=True),
        sa.Column('referrer', sa.String(length=2048), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=True, comment="ISO 3166-1 alpha-2, from a CDN's header."),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('flagged', sa.Boolean(), nullable=False, comment='A bot, a link-preview fetcher or a HEAD: never credited.'),
        sa.Column('flag_reason', sa.String(length=100), nullable=True),
        sa.Column(
            'is_unique', sa.Boolean(), nullable=False,
            comment='False for a flagged click and for a repeat by the same visitor on the same link within 30 minutes.',
        ),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.ForeignKeyConstraint(['link_id'], ['attribution.links.id'], name=op.f('fk_clicks_link_id_links')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clicks')),
        schema='attribution',
    )
    op.create_index(
        'ix_attribution_clicks_link_id_visitor_hash_clicked_at', 'clicks', ['link_id', 'visitor_hash', 'clicked_at'],
        schema='attribution',
    )


def downgrade() -> None:
    op.drop_table('clicks', schema='attribution')
    op.drop_table('links', schema='attribution')
    op.drop_table('codes', schema='attribution')
