"""record_click(): a click already recorded is recorded once

A click can now be recorded from its id when an order carries it back and no row holds it
(docs/decisions/0061, services/attribution/clicks/recovery.py); the redirect's own record and that
one may meet. The function inserts the click with ON CONFLICT (id) DO NOTHING and, when the click
was there already, writes no event and returns NULL, instead of failing the transaction with a
unique violation. Everything else is 0025's.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-29 09:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0025's function, as it was (the downgrade puts it back).
PREVIOUS = """
CREATE OR REPLACE FUNCTION attribution.record_click(
    c_id uuid, c_tenant_id uuid, c_clicked_at timestamptz, c_link_id uuid, c_campaign_id uuid, c_creator_id uuid,
    c_visitor_hash text, c_network_hash text, c_user_agent text, c_referrer text, c_country text, c_method text,
    c_flagged boolean, c_flag_reason text, c_holdout_id uuid, c_holdout_group text, repeat_window interval,
    o_event_id uuid, o_topic text, o_key text, o_event_type text, o_sequence bigint, o_correlation_id text,
    o_unique bytea, o_repeat bytea
) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    unique_click boolean := NOT c_flagged;
BEGIN
    -- Unique unless an unflagged click of this visitor on this link falls in the repeat window; a
    -- flagged click is never unique; a click without a visitor is unique unless flagged.
    IF unique_click AND c_visitor_hash IS NOT NULL THEN
        -- Two clicks of one visitor on one link wait for each other here (the lock is the one the
        -- redirect took before this function existed, so old and new replicas agree) ...
        PERFORM pg_advisory_xact_lock(hashtextextended('click:' || c_link_id::text || ':' || c_visitor_hash, 0));
        -- ... and this statement's own snapshot, taken after the lock, sees the other one.
        unique_click := NOT EXISTS (
            SELECT 1 FROM attribution.clicks
            WHERE link_id = c_link_id AND visitor_hash = c_visitor_hash AND NOT flagged
              AND clicked_at > c_clicked_at - repeat_window
        );
    END IF;
    INSERT INTO attribution.clicks (
        id, tenant_id, clicked_at, link_id, campaign_id, creator_id, visitor_hash, network_hash, user_agent,
        referrer, country, method, flagged, flag_reason, holdout_id, holdout_group, is_unique
    ) VALUES (
        c_id, c_tenant_id, c_clicked_at, c_link_id, c_campaign_id, c_creator_id, c_visitor_hash, c_network_hash,
        c_user_agent, c_referrer, c_country, c_method, c_flagged, c_flag_reason, c_holdout_id, c_holdout_group,
        unique_click
    );
    INSERT INTO attribution.outbox (event_id, topic, key, event_type, sequence, correlation_id, value)
    VALUES (o_event_id, o_topic, o_key, o_event_type, o_sequence, o_correlation_id,
            CASE WHEN unique_click THEN o_unique ELSE o_repeat END);
    RETURN unique_click;
END
$$
"""

# The same, but for the insert of the click: nothing more when a click of that id is there.
_CLICK_INSERTED = """
        unique_click
    );
    INSERT INTO attribution.outbox"""
_CLICK_INSERTED_ONCE = """
        unique_click
    ) ON CONFLICT (id) DO NOTHING;
    -- A click already recorded (its id carried back by an order, or delivered twice): nothing
    -- more, no second event.
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO attribution.outbox"""
assert PREVIOUS.count(_CLICK_INSERTED) == 1
RECORD_CLICK = PREVIOUS.replace(_CLICK_INSERTED, _CLICK_INSERTED_ONCE)


def upgrade() -> None:
    op.execute(RECORD_CLICK)


def downgrade() -> None:
    op.execute(PREVIOUS)
