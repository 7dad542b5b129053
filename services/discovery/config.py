from functools import lru_cache

from shared.settings import ServiceSettings


class DiscoverySettings(ServiceSettings):
    """Discovery reads only the common service settings for now."""


@lru_cache
def get_settings() -> DiscoverySettings:
    return DiscoverySettings()
