"""report triggers per statement on insert: a batch's new decisions and ledger entries add their
report deltas with one grouped statement per INSERT, from its transition table, instead of a
PL/pgSQL call and a delta row per inserted row (ADR 0051, addendum of 2026-11-29). Updates and
deletions keep their row triggers (rare, and each needs its row's before and after); the INSERT
branches of `report_on_credit()` and `report_on_entry()` are no longer reached (kept for the
downgrade).

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-29 20:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0030'
down_revision: str | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What an inserted credit's row trigger did (attribution.report_on_credit, migration 0022), for a
# whole statement's rows: each credit's figures, and, for a credited one whose order has ledger
# entries in its campaign already, those entries moved to its key (locked first, as there).
CREDITS = """
CREATE FUNCTION attribution.report_on_new_credits() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM attribution.ledger_entries e
    WHERE (e.tenant_id, e.source, e.order_id) IN (
        SELECT o.tenant_id, o.source || ':' || o.source_id::text, o.order_id
        FROM new_credits c JOIN attribution.orders o ON o.id = c.order_ref
        WHERE c.outcome = 'credited' AND {has_entries})
    FOR SHARE;
    PERFORM attribution.report_note(ARRAY(
        SELECT d FROM new_credits c JOIN attribution.orders o ON o.id = c.order_ref,
                      LATERAL attribution.report_of_credit(c::attribution.order_credits, o, 1) d
        UNION ALL
        SELECT d FROM new_credits c JOIN attribution.orders o ON o.id = c.order_ref,
                      LATERAL attribution.report_entries_of(c::attribution.order_credits, o, 1) d
        WHERE c.outcome = 'credited' AND {has_entries}));
    RETURN NULL;
END $$
""".replace("{has_entries}", """EXISTS (
            SELECT 1 FROM attribution.ledger_entries x
            WHERE x.tenant_id = o.tenant_id AND x.source = o.source || ':' || o.source_id::text
              AND x.order_id = o.order_id AND x.campaign_id = c.campaign_id)""")

# What an inserted entry's row trigger did (attribution.report_on_entry), for a whole statement's
# rows: each entry's amount by state at its order's credit's key (its platform and placement day),
# or in the undated figures when its order is not credited to its campaign.
ENTRIES = """
CREATE FUNCTION attribution.report_on_new_entries() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO attribution.report_deltas (tenant_id, campaign_id, creator_id, platform, day, currency,
                                           commission_pending, commission_approved, commission_paid, clawbacks)
    SELECT e.tenant_id, e.campaign_id, e.creator_id, coalesce(k.place, ''), coalesce(k.placed, '-infinity'::date),
           e.currency,
           sum(CASE WHEN e.kind = 'commission' AND e.state = 'pending' THEN e.amount ELSE 0 END),
           sum(CASE WHEN e.kind = 'commission' AND e.state = 'approved' THEN e.amount ELSE 0 END),
           sum(CASE WHEN e.kind = 'commission' AND e.state = 'paid' THEN e.amount ELSE 0 END),
           sum(CASE WHEN e.kind = 'clawback' THEN e.amount ELSE 0 END)
    FROM new_entries e
    LEFT JOIN LATERAL (
        SELECT coalesce(kc.platform, l.platform, 'unspecified') AS place,
               (o.placed_at AT TIME ZONE 'UTC')::date AS placed
        FROM attribution.orders o
        JOIN attribution.order_credits c ON c.order_ref = o.id
        LEFT JOIN attribution.codes kc ON kc.id = c.code_id
        LEFT JOIN attribution.links l ON c.touch_kind = 'click' AND l.slug = c.touch_label
                                     AND l.campaign_id = c.campaign_id
        WHERE o.tenant_id = e.tenant_id AND o.source = split_part(e.source, ':', 1)
          AND o.source_id = CASE WHEN substr(e.source, strpos(e.source, ':') + 1)
                                      ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                                 THEN substr(e.source, strpos(e.source, ':') + 1)::uuid END
          AND o.source || ':' || o.source_id::text = e.source  -- as written by crediting (ledger_source), exactly
          AND o.order_id = e.order_id AND c.outcome = 'credited' AND c.campaign_id = e.campaign_id
          AND c.creator_id IS NOT NULL
        LIMIT 1) k ON true
    GROUP BY e.tenant_id, e.campaign_id, e.creator_id, coalesce(k.place, ''), coalesce(k.placed, '-infinity'::date),
             e.currency;
    RETURN NULL;
END $$
"""

CREDIT_COLUMNS = "outcome, campaign_id, creator_id, touch_kind, touch_label, code_id, order_ref"


def upgrade() -> None:
    op.execute(CREDITS)
    op.execute(ENTRIES)
    op.execute("DROP TRIGGER report_totals ON attribution.order_credits")
    op.execute(f"CREATE TRIGGER report_totals AFTER DELETE OR UPDATE OF {CREDIT_COLUMNS} ON attribution.order_credits"
               " FOR EACH ROW EXECUTE FUNCTION attribution.report_on_credit()")
    op.execute("CREATE TRIGGER report_totals_inserted AFTER INSERT ON attribution.order_credits"
               " REFERENCING NEW TABLE AS new_credits FOR EACH STATEMENT"
               " EXECUTE FUNCTION attribution.report_on_new_credits()")
    op.execute("DROP TRIGGER report_totals ON attribution.ledger_entries")
    op.execute("CREATE TRIGGER report_totals AFTER UPDATE OF state ON attribution.ledger_entries"
               " FOR EACH ROW EXECUTE FUNCTION attribution.report_on_entry()")
    op.execute("CREATE TRIGGER report_totals_inserted AFTER INSERT ON attribution.ledger_entries"
               " REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT"
               " EXECUTE FUNCTION attribution.report_on_new_entries()")


def downgrade() -> None:
    for table in ("order_credits", "ledger_entries"):
        op.execute(f"DROP TRIGGER report_totals_inserted ON attribution.{table}")
        op.execute(f"DROP TRIGGER report_totals ON attribution.{table}")
    op.execute(f"CREATE TRIGGER report_totals AFTER INSERT OR DELETE OR UPDATE OF {CREDIT_COLUMNS}"
               " ON attribution.order_credits FOR EACH ROW EXECUTE FUNCTION attribution.report_on_credit()")
    op.execute("CREATE TRIGGER report_totals AFTER INSERT OR UPDATE OF state ON attribution.ledger_entries"
               " FOR EACH ROW EXECUTE FUNCTION attribution.report_on_entry()")
    op.execute("DROP FUNCTION attribution.report_on_new_credits()")
    op.execute("DROP FUNCTION attribution.report_on_new_entries()")
