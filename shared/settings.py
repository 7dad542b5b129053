"""Settings every service reads from its environment (12-factor, pydantic-settings).

Each service process has its own environment, so the variable names are the same in every
service: `DATABASE_URL` is always *that service's* connection, made as its own role.
"""

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Docker's convention for secrets: a file per setting, named after it (identity_public_key,
# gateway_identity_private_key...). docker-compose.yml mounts the keys there; the environment
# still wins where both are set.
SECRETS_DIR = "/run/secrets"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None,
        extra="ignore",
        case_sensitive=False,
        secrets_dir=SECRETS_DIR if os.path.isdir(SECRETS_DIR) else None,
    )

    database_url: str = Field(
        description="SQLAlchemy URL of the service's own login role, e.g. "
        "postgresql+asyncpg://limelight_discovery:secret@db:5432/limelight",
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Comma-separated Kafka bootstrap servers."
    )
    log_level: str = Field(default="INFO", description="Python log level name.")
    db_pool_size: int = Field(default=5, ge=1, le=100, description="SQLAlchemy pool size.")
    outbox_poll_interval_ms: int = Field(
        default=100, ge=5, le=60_000, description="How often the outbox relay looks for new rows."
    )
    outbox_batch_size: int = Field(
        default=500, ge=1, le=10_000, description="Rows the outbox relay claims per transaction."
    )
    consumer_max_attempts: int = Field(
        default=5, ge=1, le=50, description="Attempts for a transient failure before the message is dead-lettered."
    )
    identity_public_key: str | None = Field(
        default=None,
        description="PEM Ed25519 public key(s) of the gateway's identity signer; several concatenated during a "
        "rotation. Without it the service refuses every call (401).",
    )
    run_background_workers: bool = Field(
        default=True,
        description="Start the outbox relay and Kafka consumers in this process (off for API-only replicas).",
    )
