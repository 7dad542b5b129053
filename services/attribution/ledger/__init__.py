"""The commission ledger: append-only entries, clawbacks, approval after the hold, payouts (ADR 0031)."""
