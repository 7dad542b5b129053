from functools import lru_cache

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


# A click's visitor data are kept this long by default; a click older than that is not recorded
# from its id either (clicks/recovery.py).
CLICK_RETENTION_DAYS = 180


class AttributionSettings(ServiceSettings):
    """The common service settings, the ledger's approval and the sales records' publishing intervals, and the key of the hashes."""

    ledger_approval_interval_seconds: float = Field(
        default=60.0, gt=0, le=86_400,
        description="How often pending commission entries whose holding period has ended are approved. "
        "Holding periods are days long; a minute late is nothing, and the query reads a partial index.",
    )
    report_totals_interval_seconds: float = Field(
        default=2.0, gt=0, le=3_600,
        description="How often the writes' deltas are folded into the reports' running totals (ADR 0051). Reports "
        "are right either way (they read the deltas not folded yet); folding keeps what they read small.",
    )
    performance_interval_seconds: float = Field(
        default=2.0, gt=0, le=3_600,
        description="How often creators' changed sales records are published to discovery (attribution.performance.v1): "
        "one event per creator and round, however many orders moved it.",
    )
    click_retention_days: int = Field(
        default=CLICK_RETENTION_DAYS, ge=31, le=3_650,
        description="After this many days a click keeps only what reports count (its link, creator, time, country, "
        "flags): its visitor and network hashes, user agent and referrer are removed (docs/guide/privacy.md). At least "
        "31: attribution windows and fraud look-backs read them for up to 30 days.",
    )
    retention_interval_seconds: float = Field(
        default=3_600.0, gt=0, le=86_400, description="How often the retention job runs.",
    )
    attribution_hash_key: SecretStr | None = Field(
        default=None,
        description="Key of the keyed hashes (HMAC-SHA256) kept instead of a customer's e-mail or id and a visitor's "
        "address: at least 16 characters. `./limelight up` and the Docker keys job generate one. Without it, orders "
        "are not consumed and clicks are hashed under a random key per process (a visitor then counts as new after "
        "a restart or on another replica).",
    )


@lru_cache
def get_settings() -> AttributionSettings:
    return AttributionSettings()
