"""report totals: the reports' figures per campaign, creator, platform, UTC day and currency, kept
by PostgreSQL itself as orders, credits, ledger entries and clicks are written (ADR 0051)

Every write to those tables appends its effect to `report_deltas` (a trigger per table; appends
only, so writers never wait on one another); `attribution.report_compact()` folds the deltas into
`report_totals` (the service's ReportTotalsWorker calls it every few seconds). A report reads both
in one statement, so it sees every committed write whether folded yet or not.
`attribution.report_rebuild()` recomputes the totals from the rows (set-based; this revision's
backfill, and the repair if they are ever in doubt).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = 'attribution'
TENANT = 'The tenant that owns the row; filtered on by shared.tenancy.'
KEYS = ('tenant_id', 'campaign_id', 'creator_id', 'platform', 'day', 'currency')
FIGURES = ('orders', 'cancelled_orders', 'orders_from_clicks', 'revenue', 'revenue_before_refunds', 'commission_pending',
           'commission_approved', 'commission_paid', 'clawbacks', 'clicks_total', 'clicks_unique', 'clicks_flagged')


def _columns():
    return [
        sa.Column('tenant_id', sa.UUID(), nullable=False, comment=TENANT),
        sa.Column('campaign_id', sa.UUID(), nullable=False),
        sa.Column('creator_id', sa.UUID(), nullable=False),
        sa.Column('platform', sa.String(length=20), nullable=False,
                  comment="The touch's code's or link's platform ('unspecified' when not said); '' for a ledger "
                          "entry whose order is not credited to its campaign."),
        sa.Column('day', sa.Date(), nullable=False,
                  comment="The UTC day the order was placed or the click made; -infinity for a ledger entry "
                          "whose order is not credited to its campaign (counted only in undated figures)."),
        sa.Column('currency', sa.String(length=3), nullable=False, comment="ISO 4217; '' on clicks."),
        *(sa.Column(name, sa.BigInteger(), server_default='0', nullable=False) for name in FIGURES),
    ]


# One function per source table: what a row adds to the totals, at the key it belongs to, times
# `sign` (-1: what it took away when it changed). The ledger entry's key is its order's credit's:
# the platform of the touch that led the order and the UTC day it was placed, when the order is
# credited to the entry's campaign.
FUNCTIONS = """
CREATE FUNCTION attribution.report_platform(c attribution.order_credits) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT k.platform FROM attribution.codes k WHERE k.id = c.code_id),
        (SELECT l.platform FROM attribution.links l
         WHERE c.touch_kind = 'click' AND l.slug = c.touch_label AND l.campaign_id = c.campaign_id LIMIT 1),
        'unspecified')
$$;

CREATE FUNCTION attribution.report_of_entry(e attribution.ledger_entries, c attribution.order_credits,
                                            o attribution.orders, sign bigint)
RETURNS SETOF attribution.report_deltas
LANGUAGE sql STABLE AS $$
    SELECT NULL::bigint, e.tenant_id, e.campaign_id, e.creator_id,
           CASE WHEN placed THEN attribution.report_platform(c) ELSE '' END,
           CASE WHEN placed THEN (o.placed_at AT TIME ZONE 'UTC')::date ELSE '-infinity'::date END,
           e.currency, 0, 0, 0, 0, 0,
           CASE WHEN e.kind = 'commission' AND e.state = 'pending' THEN sign * e.amount ELSE 0 END,
           CASE WHEN e.kind = 'commission' AND e.state = 'approved' THEN sign * e.amount ELSE 0 END,
           CASE WHEN e.kind = 'commission' AND e.state = 'paid' THEN sign * e.amount ELSE 0 END,
           CASE WHEN e.kind = 'clawback' THEN sign * e.amount ELSE 0 END,
           0, 0, 0
    FROM (SELECT coalesce(c.outcome = 'credited' AND c.campaign_id = e.campaign_id AND c.creator_id IS NOT NULL
                          AND o.id = c.order_ref, false) AS placed) p
$$;

CREATE FUNCTION attribution.report_of_credit(c attribution.order_credits, o attribution.orders, sign bigint)
RETURNS SETOF attribution.report_deltas
LANGUAGE sql STABLE AS $$
    SELECT NULL::bigint, c.tenant_id, c.campaign_id, c.creator_id, attribution.report_platform(c),
           (o.placed_at AT TIME ZONE 'UTC')::date, o.currency,
           sign, CASE WHEN o.state = 'cancelled' THEN sign ELSE 0 END,
           CASE WHEN c.touch_kind = 'click' THEN sign ELSE 0 END,
           sign * o.basis_minor, sign * o.basis_before_refunds_minor, 0, 0, 0, 0, 0, 0, 0
    WHERE c.outcome = 'credited' AND c.campaign_id IS NOT NULL AND c.creator_id IS NOT NULL AND o.id = c.order_ref
$$;

-- What a credit moves of its order's ledger entries: to its key from no day (sign 1), or back.
CREATE FUNCTION attribution.report_entries_of(c attribution.order_credits, o attribution.orders, sign bigint)
RETURNS SETOF attribution.report_deltas
LANGUAGE sql STABLE AS $$
    SELECT d.* FROM attribution.ledger_entries e, LATERAL attribution.report_of_entry(e, c, o, sign) d
    WHERE e.tenant_id = o.tenant_id AND e.source = o.source || ':' || o.source_id::text AND e.order_id = o.order_id
      AND e.campaign_id = c.campaign_id AND c.outcome = 'credited' AND c.creator_id IS NOT NULL
    UNION ALL
    SELECT d.* FROM attribution.ledger_entries e, LATERAL attribution.report_of_entry(e, NULL, NULL, -sign) d
    WHERE e.tenant_id = o.tenant_id AND e.source = o.source || ':' || o.source_id::text AND e.order_id = o.order_id
      AND e.campaign_id = c.campaign_id AND c.outcome = 'credited' AND c.creator_id IS NOT NULL
$$;

-- Before a trigger moves an order's ledger entries to another key, it locks them (FOR SHARE): an
-- entry's state changing at the same time (the approval worker, a payout) waits for it, or it
-- for the change, and whichever runs second computes from what the first committed. Without
-- it, each would read the other's old row and the totals would keep the entry at the old key.
CREATE FUNCTION attribution.report_lock_entries(o attribution.orders) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM attribution.ledger_entries e
    WHERE e.tenant_id = o.tenant_id AND e.source = o.source || ':' || o.source_id::text AND e.order_id = o.order_id
    FOR SHARE;
END $$;

-- What an order and its credit add: the order's figures, and its ledger entries at its key.
CREATE FUNCTION attribution.report_of_order(c attribution.order_credits, o attribution.orders, sign bigint)
RETURNS SETOF attribution.report_deltas
LANGUAGE sql STABLE AS $$
    SELECT * FROM attribution.report_of_credit(c, o, sign)
    UNION ALL
    SELECT * FROM attribution.report_entries_of(c, o, sign)
$$;

CREATE FUNCTION attribution.report_of_click(k attribution.clicks, sign bigint)
RETURNS SETOF attribution.report_deltas
LANGUAGE sql STABLE AS $$
    SELECT NULL::bigint, k.tenant_id, k.campaign_id, k.creator_id,
           coalesce((SELECT l.platform FROM attribution.links l WHERE l.id = k.link_id), 'unspecified'),
           (k.clicked_at AT TIME ZONE 'UTC')::date, '',
           0, 0, 0, 0, 0, 0, 0, 0, 0, sign, CASE WHEN k.is_unique THEN sign ELSE 0 END,
           CASE WHEN k.flagged THEN sign ELSE 0 END
$$;

CREATE FUNCTION attribution.report_note(deltas attribution.report_deltas[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO attribution.report_deltas (tenant_id, campaign_id, creator_id, platform, day, currency, {figures})
    SELECT tenant_id, campaign_id, creator_id, platform, day, currency, {sums}
    FROM unnest(deltas) GROUP BY tenant_id, campaign_id, creator_id, platform, day, currency
    HAVING {nonzero}
$$;

-- The writes the service makes most (a ledger line, its next state, a credit, a click): one lookup
-- and one insert each. The rare ones (an order's refund or cancellation, a credit or a click
-- changed) go through the functions above.
CREATE FUNCTION attribution.report_on_entry() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    order_source uuid := CASE WHEN substr(NEW.source, strpos(NEW.source, ':') + 1)
                                ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                           THEN substr(NEW.source, strpos(NEW.source, ':') + 1)::uuid END;
    place text;
    placed date;
    pending bigint := CASE WHEN NEW.kind = 'commission' AND NEW.state = 'pending' THEN NEW.amount ELSE 0 END;
    approved bigint := CASE WHEN NEW.kind = 'commission' AND NEW.state = 'approved' THEN NEW.amount ELSE 0 END;
    paid bigint := CASE WHEN NEW.kind = 'commission' AND NEW.state = 'paid' THEN NEW.amount ELSE 0 END;
    clawed bigint := CASE WHEN NEW.kind = 'clawback' THEN NEW.amount ELSE 0 END;
BEGIN
    IF TG_OP = 'UPDATE' THEN  -- only the state can change (attribution.ledger_entries_append_only)
        pending := pending - CASE WHEN OLD.kind = 'commission' AND OLD.state = 'pending' THEN OLD.amount ELSE 0 END;
        approved := approved - CASE WHEN OLD.kind = 'commission' AND OLD.state = 'approved' THEN OLD.amount ELSE 0 END;
        paid := paid - CASE WHEN OLD.kind = 'commission' AND OLD.state = 'paid' THEN OLD.amount ELSE 0 END;
        clawed := clawed - CASE WHEN OLD.kind = 'clawback' THEN OLD.amount ELSE 0 END;
    END IF;
    SELECT coalesce(k.platform, l.platform, 'unspecified'), (o.placed_at AT TIME ZONE 'UTC')::date INTO place, placed
    FROM attribution.orders o
    JOIN attribution.order_credits c ON c.order_ref = o.id
    LEFT JOIN attribution.codes k ON k.id = c.code_id
    LEFT JOIN attribution.links l ON c.touch_kind = 'click' AND l.slug = c.touch_label AND l.campaign_id = c.campaign_id
    WHERE o.tenant_id = NEW.tenant_id AND o.source = split_part(NEW.source, ':', 1) AND o.source_id = order_source
      AND o.source || ':' || o.source_id::text = NEW.source  -- as written by crediting (ledger_source), exactly
      AND o.order_id = NEW.order_id AND c.outcome = 'credited' AND c.campaign_id = NEW.campaign_id
      AND c.creator_id IS NOT NULL
    LIMIT 1;
    IF NOT FOUND THEN
        place := '';
        placed := '-infinity';
    END IF;
    INSERT INTO attribution.report_deltas (tenant_id, campaign_id, creator_id, platform, day, currency,
                                           commission_pending, commission_approved, commission_paid, clawbacks)
    VALUES (NEW.tenant_id, NEW.campaign_id, NEW.creator_id, place, placed, NEW.currency, pending, approved, paid, clawed);
    RETURN NULL;
END $$;

CREATE FUNCTION attribution.report_on_credit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    o attribution.orders;
    was attribution.orders;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT * INTO o FROM attribution.orders WHERE id = NEW.order_ref;
        INSERT INTO attribution.report_deltas (tenant_id, campaign_id, creator_id, platform, day, currency,
                                               orders, cancelled_orders, orders_from_clicks, revenue, revenue_before_refunds)
        SELECT d.tenant_id, d.campaign_id, d.creator_id, d.platform, d.day, d.currency, d.orders, d.cancelled_orders,
               d.orders_from_clicks, d.revenue, d.revenue_before_refunds
        FROM attribution.report_of_credit(NEW, o, 1) d;
        IF NEW.outcome = 'credited' AND EXISTS (
                SELECT 1 FROM attribution.ledger_entries e
                WHERE e.tenant_id = o.tenant_id AND e.source = o.source || ':' || o.source_id::text
                  AND e.order_id = o.order_id AND e.campaign_id = NEW.campaign_id) THEN
            PERFORM attribution.report_lock_entries(o);
            PERFORM attribution.report_note(ARRAY(SELECT attribution.report_entries_of(NEW, o, 1)));
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT * INTO was FROM attribution.orders WHERE id = OLD.order_ref;
        PERFORM attribution.report_lock_entries(was);
        PERFORM attribution.report_note(ARRAY(SELECT attribution.report_of_order(OLD, was, -1)));
    ELSE
        SELECT * INTO was FROM attribution.orders WHERE id = OLD.order_ref;
        SELECT * INTO o FROM attribution.orders WHERE id = NEW.order_ref;
        PERFORM attribution.report_lock_entries(was);
        PERFORM attribution.report_lock_entries(o);
        PERFORM attribution.report_note(ARRAY(
            SELECT attribution.report_of_order(OLD, was, -1) UNION ALL SELECT attribution.report_of_order(NEW, o, 1)));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION attribution.report_on_order() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    c attribution.order_credits;
BEGIN
    SELECT * INTO c FROM attribution.order_credits WHERE order_ref = NEW.id;
    IF c.id IS NOT NULL THEN
        IF (OLD.placed_at AT TIME ZONE 'UTC')::date IS DISTINCT FROM (NEW.placed_at AT TIME ZONE 'UTC')::date THEN
            PERFORM attribution.report_lock_entries(NEW);  -- they move to another day
        END IF;
        PERFORM attribution.report_note(ARRAY(
            SELECT attribution.report_of_order(c, OLD, -1) UNION ALL SELECT attribution.report_of_order(c, NEW, 1)));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION attribution.report_on_click() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO attribution.report_deltas (tenant_id, campaign_id, creator_id, platform, day, currency,
                                               clicks_total, clicks_unique, clicks_flagged)
        VALUES (NEW.tenant_id, NEW.campaign_id, NEW.creator_id,
                coalesce((SELECT l.platform FROM attribution.links l WHERE l.id = NEW.link_id), 'unspecified'),
                (NEW.clicked_at AT TIME ZONE 'UTC')::date, '', 1, CASE WHEN NEW.is_unique THEN 1 ELSE 0 END,
                CASE WHEN NEW.flagged THEN 1 ELSE 0 END);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM attribution.report_note(ARRAY(SELECT attribution.report_of_click(OLD, -1)));
    ELSE
        PERFORM attribution.report_note(ARRAY(
            SELECT attribution.report_of_click(OLD, -1) UNION ALL SELECT attribution.report_of_click(NEW, 1)));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER report_totals AFTER INSERT OR UPDATE OF state ON attribution.ledger_entries
    FOR EACH ROW EXECUTE FUNCTION attribution.report_on_entry();

CREATE TRIGGER report_totals AFTER INSERT OR DELETE OR UPDATE OF outcome, campaign_id, creator_id, touch_kind, touch_label,
        code_id, order_ref ON attribution.order_credits
    FOR EACH ROW EXECUTE FUNCTION attribution.report_on_credit();

CREATE TRIGGER report_totals AFTER UPDATE OF state, basis_minor, basis_before_refunds_minor, placed_at, currency
        ON attribution.orders
    FOR EACH ROW WHEN ((OLD.state, OLD.basis_minor, OLD.basis_before_refunds_minor, OLD.placed_at, OLD.currency)
                       IS DISTINCT FROM (NEW.state, NEW.basis_minor, NEW.basis_before_refunds_minor, NEW.placed_at,
                                         NEW.currency))
    EXECUTE FUNCTION attribution.report_on_order();

CREATE TRIGGER report_totals AFTER INSERT OR DELETE OR UPDATE OF flagged, is_unique, link_id, campaign_id, creator_id,
        clicked_at ON attribution.clicks
    FOR EACH ROW EXECUTE FUNCTION attribution.report_on_click();

-- The deltas folded into the totals: one caller at a time (the others return 0 at once); the rows a
-- report reads change in one commit, so a report never counts a delta twice or misses it.
CREATE FUNCTION attribution.report_compact() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('attribution.report_compact')) THEN
        RETURN 0;
    END IF;
    WITH gone AS (DELETE FROM attribution.report_deltas RETURNING *)
    INSERT INTO attribution.report_totals AS t (tenant_id, campaign_id, creator_id, platform, day, currency, {figures})
    SELECT tenant_id, campaign_id, creator_id, platform, day, currency, {sums}
    FROM gone GROUP BY tenant_id, campaign_id, creator_id, platform, day, currency
    ON CONFLICT (tenant_id, campaign_id, creator_id, platform, day, currency) DO UPDATE SET {adds};
    GET DIAGNOSTICS folded = ROW_COUNT;
    RETURN folded;
END $$;

-- Every row's part, set-based: what the triggers' deltas add up to.
CREATE FUNCTION attribution.report_recomputed() RETURNS SETOF attribution.report_totals
LANGUAGE sql STABLE AS $$
    WITH credit AS (
        SELECT c.tenant_id, c.campaign_id, c.creator_id, c.touch_kind,
               coalesce(k.platform, l.platform, 'unspecified') AS platform,
               (o.placed_at AT TIME ZONE 'UTC')::date AS day, o.currency, o.state, o.basis_minor,
               o.basis_before_refunds_minor, o.source || ':' || o.source_id::text AS ledger_source, o.order_id
        FROM attribution.order_credits c
        JOIN attribution.orders o ON o.id = c.order_ref
        LEFT JOIN attribution.codes k ON k.id = c.code_id
        LEFT JOIN attribution.links l ON c.touch_kind = 'click' AND l.slug = c.touch_label AND l.campaign_id = c.campaign_id
        WHERE c.outcome = 'credited' AND c.campaign_id IS NOT NULL AND c.creator_id IS NOT NULL
    ), parts AS (
        SELECT tenant_id, campaign_id, creator_id, platform, day, currency, 1::bigint AS orders,
               (state = 'cancelled')::int::bigint AS cancelled_orders, (touch_kind = 'click')::int::bigint AS orders_from_clicks,
               basis_minor AS revenue, basis_before_refunds_minor AS revenue_before_refunds,
               0::bigint AS commission_pending, 0::bigint AS commission_approved, 0::bigint AS commission_paid,
               0::bigint AS clawbacks, 0::bigint AS clicks_total, 0::bigint AS clicks_unique, 0::bigint AS clicks_flagged
        FROM credit
        UNION ALL
        SELECT e.tenant_id, e.campaign_id, e.creator_id, coalesce(cr.platform, ''), coalesce(cr.day, '-infinity'::date),
               e.currency, 0, 0, 0, 0, 0,
               CASE WHEN e.kind = 'commission' AND e.state = 'pending' THEN e.amount ELSE 0 END,
               CASE WHEN e.kind = 'commission' AND e.state = 'approved' THEN e.amount ELSE 0 END,
               CASE WHEN e.kind = 'commission' AND e.state = 'paid' THEN e.amount ELSE 0 END,
               CASE WHEN e.kind = 'clawback' THEN e.amount ELSE 0 END, 0, 0, 0
        FROM attribution.ledger_entries e
        LEFT JOIN credit cr ON cr.tenant_id = e.tenant_id AND cr.ledger_source = e.source AND cr.order_id = e.order_id
                           AND cr.campaign_id = e.campaign_id
        UNION ALL
        SELECT k.tenant_id, k.campaign_id, k.creator_id, coalesce(l.platform, 'unspecified'),
               (k.clicked_at AT TIME ZONE 'UTC')::date, '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, k.is_unique::int, k.flagged::int
        FROM attribution.clicks k LEFT JOIN attribution.links l ON l.id = k.link_id
    )
    SELECT tenant_id, campaign_id, creator_id, platform, day, currency, {sums}
    FROM parts GROUP BY tenant_id, campaign_id, creator_id, platform, day, currency
    HAVING {nonzero}
$$;

-- The totals rebuilt from the rows (the pending deltas dropped: the rows already hold them).
CREATE FUNCTION attribution.report_rebuild() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    kept bigint;
BEGIN
    LOCK TABLE attribution.orders, attribution.order_credits, attribution.ledger_entries, attribution.clicks
        IN SHARE MODE;
    LOCK TABLE attribution.report_deltas, attribution.report_totals IN EXCLUSIVE MODE;
    DELETE FROM attribution.report_deltas;
    DELETE FROM attribution.report_totals;
    INSERT INTO attribution.report_totals SELECT * FROM attribution.report_recomputed();
    GET DIAGNOSTICS kept = ROW_COUNT;
    RETURN kept;
END $$;
"""


def _sql() -> str:
    sql = FUNCTIONS
    for name, value in {
        "{figures}": ", ".join(FIGURES),
        "{sums}": ", ".join(f"sum({f})::bigint" for f in FIGURES),
        "{nonzero}": " OR ".join(f"sum({f}) <> 0" for f in FIGURES),
        "{adds}": ", ".join(f"{f} = t.{f} + excluded.{f}" for f in FIGURES),
    }.items():
        sql = sql.replace(name, value)
    return sql


def _statements() -> list[str]:
    # One statement per execute (asyncpg prepares each); FUNCTIONS keeps a blank line between them.
    return [chunk for chunk in _sql().split("\n\n") if chunk.strip()]


def upgrade() -> None:
    op.create_table(
        'report_totals', *_columns(),
        sa.PrimaryKeyConstraint(*KEYS, name=op.f('pk_report_totals')),
        schema=S, comment="The reports' figures per campaign, creator, platform, UTC day and currency (ADR 0051).",
    )
    op.create_index('ix_attribution_report_totals_tenant_id_creator_id', 'report_totals', ['tenant_id', 'creator_id'],
                    schema=S)
    op.create_table(
        'report_deltas',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
        *_columns(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_deltas')),
        schema=S, comment="Writes' effects on report_totals not folded in yet (attribution.report_compact()).",
    )
    op.create_index('ix_attribution_report_deltas_tenant_id_campaign_id', 'report_deltas', ['tenant_id', 'campaign_id'],
                    schema=S)
    op.create_index('ix_attribution_report_deltas_tenant_id_creator_id', 'report_deltas', ['tenant_id', 'creator_id'],
                    schema=S)
    for statement in _statements():
        op.execute(statement)
    op.execute("SELECT attribution.report_rebuild()")


def downgrade() -> None:
    for table in ('ledger_entries', 'order_credits', 'orders', 'clicks'):
        op.execute(f"DROP TRIGGER report_totals ON attribution.{table}")
    for function in ('report_rebuild()', 'report_recomputed()', 'report_compact()', 'report_on_click()',
                     'report_on_order()', 'report_on_credit()', 'report_on_entry()',
                     'report_note(attribution.report_deltas[])', 'report_of_click(attribution.clicks, bigint)',
                     'report_of_order(attribution.order_credits, attribution.orders, bigint)',
                     'report_entries_of(attribution.order_credits, attribution.orders, bigint)',
                     'report_lock_entries(attribution.orders)',
                     'report_of_credit(attribution.order_credits, attribution.orders, bigint)',
                     'report_of_entry(attribution.ledger_entries, attribution.order_credits, attribution.orders, bigint)',
                     'report_platform(attribution.order_credits)'):
        op.execute(f"DROP FUNCTION attribution.{function}")
    op.drop_table('report_deltas', schema=S)
    op.drop_table('report_totals', schema=S)
