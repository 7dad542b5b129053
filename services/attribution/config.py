from functools import lru_cache

from shared.settings import ServiceSettings


class AttributionSettings(ServiceSettings):
    """Attribution reads only the common service settings for now."""


@lru_cache
def get_settings() -> AttributionSettings:
    return AttributionSettings()
