"""commission ledger: entries (append-only, enforced by triggers), clawback claims, payouts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What was written is never changed: money, currency, the order it belongs to, the reason, the
# hold. Only the state moves, forward, once per step: pending -> approved -> paid. See
# docs/decisions/0031-commission-ledger.md. A refusal is SQLSTATE 23001 (restrict_violation).
ENTRIES_GUARD = """
CREATE FUNCTION attribution.ledger_entries_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'ledger entry % is append-only: it cannot be deleted', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.tenant_id, NEW.kind, NEW.creator_id, NEW.campaign_id, NEW.currency, NEW.amount, NEW.source,
        NEW.order_id, NEW.line_key, NEW.refund_id, NEW.claim_id, NEW.reverses_entry_id, NEW.reason,
        NEW.created_at, NEW.hold_until)
       IS DISTINCT FROM
       (OLD.id, OLD.tenant_id, OLD.kind, OLD.creator_id, OLD.campaign_id, OLD.currency, OLD.amount, OLD.source,
        OLD.order_id, OLD.line_key, OLD.refund_id, OLD.claim_id, OLD.reverses_entry_id, OLD.reason,
        OLD.created_at, OLD.hold_until) THEN
        RAISE EXCEPTION 'ledger entry % is append-only: only its state can change', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (OLD.state = 'pending' AND NEW.state = 'approved' AND NEW.approved_at IS NOT NULL
            AND NEW.paid_at IS NULL AND NEW.payout_id IS NULL)
       OR (OLD.state = 'approved' AND NEW.state = 'paid' AND NEW.approved_at IS NOT DISTINCT FROM OLD.approved_at
            AND NEW.paid_at IS NOT NULL AND NEW.payout_id IS NOT NULL) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger entry %: % -> % is not a step of pending -> approved -> paid', OLD.id, OLD.state, NEW.state
        USING ERRCODE = 'restrict_violation';
END $$;
"""

# Claims and payouts are facts as received or made: never changed, never deleted.
IMMUTABLE = """
CREATE FUNCTION attribution.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
"""


def upgrade() -> None:
    op.create_table(
        'payouts',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False, comment='ISO 4217 code.'),
        sa.Column('amount', sa.BigInteger(), nullable=False, comment='The net paid, in minor units of currency.'),
        sa.Column('commission_total', sa.BigInteger(), nullable=False, comment="The batch's commission entries, minor units."),
        sa.Column('clawback_total', sa.BigInteger(), nullable=False, comment="The batch's clawback entries (<= 0), minor units."),
        sa.Column('entry_count', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment='The tenant that owns the row; filtered on by shared.tenancy.'),
        sa.CheckConstraint('amount > 0', name=op.f('ck_payouts_amount_positive')),
        sa.CheckConstraint('entry_count > 0', name=op.f('ck_payouts_entry_count_positive')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
        schema='attribution',
    )
    op.create_index(
        'ix_attribution_payouts_tenant_id_created_at_id', 'payouts', ['tenant_id', 'created_at', 'id'],
        unique=False, schema='attribution',
    )
    op.create_table(
        'clawback_claims',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('arrival', sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column('source', sa.String(length=100), nullable=False),
        sa.Column('order_id', sa.String(length=255), nullable=False),
        sa.Column('refund_id', sa.String(length=255), nullable=False, comment="The refund's or cancellation's id at the source."),
        sa.Column('currency', sa.String(length=3), nullable=False, comment='ISO 4217 code.'),
        sa.Column(
            'amount', sa.BigInteger(), nullable=True,
            comment="Commission to claw back, minor units; NULL: all of the order's (a cancellation).",
        ),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment='The tenant that owns the row; filtered on by shared.tenancy.'),
        sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_clawback_claims_amount_positive')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clawback_claims')),
        sa.UniqueConstraint(
            'tenant_id', 'source', 'order_id', 'refund_id', name=op.f('uq_clawback_claims_tenant_id_source_order_id_refund_id')
        ),
        schema='attribution',
    )
    op.create_table(
        'ledger_entries',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False, comment='ISO 4217 code.'),
        sa.Column('amount', sa.BigInteger(), nullable=False, comment='Minor units: commissions > 0, clawbacks < 0.'),
        sa.Column('source', sa.String(length=100), nullable=False, comment='Where the order came from (a webhook source).'),
        sa.Column('order_id', sa.String(length=255), nullable=False),
        sa.Column('line_key', sa.String(length=255), nullable=True, comment="A commission's key within its order."),
        sa.Column('refund_id', sa.String(length=255), nullable=True, comment="A clawback's refund or cancellation id."),
        sa.Column('claim_id', sa.UUID(), nullable=True),
        sa.Column('reverses_entry_id', sa.UUID(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
        sa.Column('hold_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=20), server_default='pending', nullable=False),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('payout_id', sa.UUID(), nullable=True),
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment='The tenant that owns the row; filtered on by shared.tenancy.'),
        sa.CheckConstraint("kind IN ('commission', 'clawback')", name=op.f('ck_ledger_entries_kind_known')),
        sa.CheckConstraint("state IN ('pending', 'approved', 'paid')", name=op.f('ck_ledger_entries_state_known')),
        sa.CheckConstraint(
            "(kind = 'commission' AND amount > 0 AND line_key IS NOT NULL AND claim_id IS NULL) OR "
            "(kind = 'clawback' AND amount < 0 AND line_key IS NULL AND claim_id IS NOT NULL "
            "AND reverses_entry_id IS NOT NULL AND refund_id IS NOT NULL)",
            name=op.f('ck_ledger_entries_kind_shape'),
        ),
        sa.CheckConstraint(
            "(state = 'pending' AND approved_at IS NULL AND paid_at IS NULL AND payout_id IS NULL) OR "
            "(state = 'approved' AND approved_at IS NOT NULL AND paid_at IS NULL AND payout_id IS NULL) OR "
            "(state = 'paid' AND approved_at IS NOT NULL AND paid_at IS NOT NULL AND payout_id IS NOT NULL)",
            name=op.f('ck_ledger_entries_state_shape'),
        ),
        sa.ForeignKeyConstraint(
            ['claim_id'], ['attribution.clawback_claims.id'], name=op.f('fk_ledger_entries_claim_id_clawback_claims')
        ),
        sa.ForeignKeyConstraint(['payout_id'], ['attribution.payouts.id'], name=op.f('fk_ledger_entries_payout_id_payouts')),
        sa.ForeignKeyConstraint(
            ['reverses_entry_id'], ['attribution.ledger_entries.id'],
            name=op.f('fk_ledger_entries_reverses_entry_id_ledger_entries'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
        sa.UniqueConstraint('claim_id', 'reverses_entry_id', name=op.f('uq_ledger_entries_claim_id_reverses_entry_id')),
        sa.UniqueConstraint(
            'tenant_id', 'source', 'order_id', 'line_key', name=op.f('uq_ledger_entries_tenant_id_source_order_id_line_key')
        ),
        schema='attribution',
    )
    op.create_index(
        'ix_attribution_ledger_entries_tenant_id_created_at_id', 'ledger_entries', ['tenant_id', 'created_at', 'id'],
        unique=False, schema='attribution',
    )
    op.create_index(
        'ix_attribution_ledger_entries_tenant_id_source_order_id', 'ledger_entries', ['tenant_id', 'source', 'order_id'],
        unique=False, schema='attribution',
    )
    op.create_index(
        'ix_attribution_ledger_entries_creator_currency_state', 'ledger_entries',
        ['tenant_id', 'creator_id', 'currency', 'state'], unique=False, schema='attribution',
    )
    op.create_index(
        'ix_attribution_ledger_entries_pending_hold_until', 'ledger_entries', ['hold_until'], unique=False,
        schema='attribution', postgresql_where=sa.text("state = 'pending'"),
    )
    op.execute(ENTRIES_GUARD)
    op.execute(IMMUTABLE)
    op.execute(
        "CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON attribution.ledger_entries "
        "FOR EACH ROW EXECUTE FUNCTION attribution.ledger_entries_append_only()"
    )
    for table in ('ledger_entries', 'clawback_claims', 'payouts'):
        if table != 'ledger_entries':
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON attribution.{table} "
                "FOR EACH ROW EXECUTE FUNCTION attribution.refuse_change()"
            )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON attribution.{table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION attribution.refuse_change()"
        )


def downgrade() -> None:
    for table in ('ledger_entries', 'clawback_claims', 'payouts'):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON attribution.{table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON attribution.{table}")
    op.execute("DROP FUNCTION attribution.refuse_change()")
    op.execute("DROP FUNCTION attribution.ledger_entries_append_only()")
    op.drop_index('ix_attribution_ledger_entries_pending_hold_until', table_name='ledger_entries', schema='attribution')
    op.drop_index('ix_attribution_ledger_entries_creator_currency_state', table_name='ledger_entries', schema='attribution')
    op.drop_index('ix_attribution_ledger_entries_tenant_id_source_order_id', table_name='ledger_entries', schema='attribution')
    op.drop_index('ix_attribution_ledger_entries_tenant_id_created_at_id', table_name='ledger_entries', schema='attribution')
    op.drop_table('ledger_entries', schema='attribution')
    op.drop_table('clawback_claims', schema='attribution')
    op.drop_index('ix_attribution_payouts_tenant_id_created_at_id', table_name='payouts', schema='attribution')
    op.drop_table('payouts', schema='attribution')
