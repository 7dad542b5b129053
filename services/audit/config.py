from functools import lru_cache

from shared.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    """Audit reads only the common service settings for now."""


@lru_cache
def get_settings() -> AuditSettings:
    return AuditSettings()
