from functools import lru_cache

from pydantic import Field

from shared.settings import ServiceSettings


class DiscoverySettings(ServiceSettings):
    """The common service settings, and the embedding worker's (the encoder's own threads and
    batch are read by services.discovery.embedding.encoder.EncoderSettings)."""

    embedding_worker_enabled: bool = Field(
        default=True, description="Run the embedding worker (content embeddings of stale creators) in this process."
    )
    embedding_worker_batch_size: int = Field(
        default=32, ge=1, le=1000, description="Creators the embedding worker claims and encodes per transaction."
    )
    embedding_worker_poll_interval_ms: int = Field(
        default=2000, ge=10, le=600_000, description="How often the embedding worker looks for stale creators when idle."
    )


@lru_cache
def get_settings() -> DiscoverySettings:
    return DiscoverySettings()
