from functools import lru_cache

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class AttributionSettings(ServiceSettings):
    """The common service settings, the commission ledger's approval interval and the key of the customer hashes."""

    ledger_approval_interval_seconds: float = Field(
        default=60.0, gt=0, le=86_400,
        description="How often pending commission entries whose holding period has ended are approved. "
        "Holding periods are days long; a minute late is nothing, and the query reads a partial index.",
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
