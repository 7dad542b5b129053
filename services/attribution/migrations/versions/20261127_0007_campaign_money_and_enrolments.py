"""campaign budgets in integer minor units; enrolments (a creator on a campaign, on a deal)

Existing budgets (NUMERIC(18, 4) in major units) become BIGINT minor units of the campaign's
currency: the amount times 10 ** exponent, exactly. A budget with more decimal places than its
currency has (e.g. 1000.5 JPY, 1.2345 BHD) cannot be exact: it is rounded once, half to even
(1000.5 JPY -> 1000, 1001.5 JPY -> 1002), as shared.money.round_minor rounds. A code without a
minor unit in ISO 4217 (XAU, XDR, ...: the release before accepted any code) is taken with 2
places, as shared.money.minor_units does. The exponents are frozen below, as the ISO 4217 list
(iso4217 1.16.20260101) had them when this revision was written, so this revision means the
same thing whatever that list says later.

Downgrade turns minor units back into the decimal amount (exact: the column has 4 places and
no currency has more).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 06:00:00
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every ISO 4217 exponent other than 2, frozen for this revision.
EXPONENTS = {
    'BHD': 3, 'BIF': 0, 'CLF': 4, 'CLP': 0, 'DJF': 0, 'GNF': 0, 'IQD': 3, 'ISK': 0, 'JOD': 3, 'JPY': 0,
    'KMF': 0, 'KRW': 0, 'KWD': 3, 'LYD': 3, 'OMR': 3, 'PYG': 0, 'RWF': 0, 'TND': 3, 'UGX': 0, 'UYI': 0,
    'UYW': 4, 'VND': 0, 'VUV': 0, 'XAF': 0, 'XOF': 0, 'XPF': 0,
}

campaigns = sa.table(
    'campaigns',
    sa.column('id', sa.UUID()),
    sa.column('currency', sa.String()),
    sa.column('budget', sa.Numeric(18, 4)),
    sa.column('budget_minor', sa.BigInteger()),
    schema='attribution',
)


def to_minor(budget: Decimal, currency: str) -> int:
    return int(budget.scaleb(EXPONENTS.get(currency, 2)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-EXPONENTS.get(currency, 2))


def _convert(source: str, target: str, convert) -> None:
    bind = op.get_bind()
    found = bind.execute(sa.select(campaigns.c.id, campaigns.c.currency, campaigns.c[source])).all()
    if found:
        bind.execute(
            campaigns.update().where(campaigns.c.id == sa.bindparam('campaign_id')).values({target: sa.bindparam('value')}),
            [{'campaign_id': row.id, 'value': convert(row[2], row.currency)} for row in found],
        )


def upgrade() -> None:
    op.add_column(
        'campaigns',
        sa.Column('budget_minor', sa.BigInteger(), nullable=True, comment='In minor units of currency (shared.money).'),
        schema='attribution',
    )
    _convert('budget', 'budget_minor', to_minor)
    op.alter_column('campaigns', 'budget_minor', nullable=False, schema='attribution')
    op.drop_constraint(op.f('ck_campaigns_budget_not_negative'), 'campaigns', schema='attribution', type_='check')
    op.drop_column('campaigns', 'budget', schema='attribution')
    op.create_check_constraint(
        op.f('ck_campaigns_budget_minor_not_negative'), 'campaigns', 'budget_minor >= 0', schema='attribution'
    )

    op.create_table(
        'enrolments',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False, comment="Discovery's creator id; attribution keeps no creator data."),
        sa.Column('deal_type', sa.String(length=20), nullable=False),
        sa.Column('fee_minor', sa.BigInteger(), nullable=False, comment="In minor units of the campaign's currency."),
        sa.Column(
            'product_value_minor', sa.BigInteger(), nullable=False,
            comment="Value of the products given, in minor units of the campaign's currency.",
        ),
        sa.Column('deliverables', postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment='[{platform, format, count, due_on}]'),
        sa.Column(
            'whitelisting', postgresql.JSONB(astext_type=sa.Text()), nullable=True,
            comment='{channels, starts_on, ends_on, status}, or null: no rights asked.',
        ),
        sa.Column(
            'money_recorded', sa.Boolean(), server_default='false', nullable=False,
            comment='Set by whatever first records money against this enrolment (the commission ledger); '
            'from then on it cannot be removed.',
        ),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column(
            'tenant_id', sa.UUID(), nullable=False,
            comment='The tenant that owns the row; filtered on by shared.tenancy.',
        ),
        sa.CheckConstraint(
            "deal_type IN ('gifted', 'paid', 'affiliate', 'hybrid')", name=op.f('ck_enrolments_deal_type_known')
        ),
        sa.CheckConstraint('fee_minor >= 0', name=op.f('ck_enrolments_fee_minor_not_negative')),
        sa.CheckConstraint('product_value_minor >= 0', name=op.f('ck_enrolments_product_value_minor_not_negative')),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['attribution.campaigns.id'], name=op.f('fk_enrolments_campaign_id_campaigns')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments')),
        sa.UniqueConstraint('campaign_id', 'creator_id', name=op.f('uq_enrolments_campaign_id_creator_id')),
        schema='attribution',
    )
    op.create_index(
        'ix_attribution_enrolments_campaign_id_created_at_id', 'enrolments', ['campaign_id', 'created_at', 'id'],
        unique=False, schema='attribution',
    )


def downgrade() -> None:
    op.drop_index('ix_attribution_enrolments_campaign_id_created_at_id', table_name='enrolments', schema='attribution')
    op.drop_table('enrolments', schema='attribution')
    op.add_column('campaigns', sa.Column('budget', sa.Numeric(precision=18, scale=4), nullable=True), schema='attribution')
    _convert('budget_minor', 'budget', to_major)
    op.alter_column('campaigns', 'budget', nullable=False, schema='attribution')
    op.drop_constraint(op.f('ck_campaigns_budget_minor_not_negative'), 'campaigns', schema='attribution', type_='check')
    op.drop_column('campaigns', 'budget_minor', schema='attribution')
    op.create_check_constraint(op.f('ck_campaigns_budget_not_negative'), 'campaigns', 'budget >= 0', schema='attribution')
