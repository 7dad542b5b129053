from functools import lru_cache

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class AttributionSettings(ServiceSettings):
    attribution_hash_key: SecretStr | None = Field(
        default=None,
        description="Per-installation secret for the keyed hashes attribution stores instead of client addresses "
        "and customer identifiers (HMAC-SHA256). Unset: a random key per process (hashes then differ across "
        "restarts and replicas).",
    )


@lru_cache
def get_settings() -> AttributionSettings:
    return AttributionSettings()
