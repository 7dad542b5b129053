from functools import lru_cache

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class AttributionSettings(ServiceSettings):
    attribution_hash_key: SecretStr | None = Field(
        default=None,
        description="Key of the keyed hashes (HMAC-SHA256) kept instead of a customer's e-mail or id: at least 16 "
        "characters. `./limelight up` and the Docker keys job generate one; without it, orders are not consumed.",
    )


@lru_cache
def get_settings() -> AttributionSettings:
    return AttributionSettings()
