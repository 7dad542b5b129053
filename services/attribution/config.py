from functools import lru_cache

from pydantic import Field

from shared.settings import ServiceSettings


class AttributionSettings(ServiceSettings):
    """The common service settings, and the commission ledger's approval interval."""

    ledger_approval_interval_seconds: float = Field(
        default=60.0, gt=0, le=86_400,
        description="How often pending commission entries whose holding period has ended are approved. "
        "Holding periods are days long; a minute late is nothing, and the query reads a partial index.",
    )


@lru_cache
def get_settings() -> AttributionSettings:
    return AttributionSettings()
