"""Where the local runtime keeps its state and which ports it uses (all overridable)."""

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("discovery", "audit", "attribution", "gateway")


class RuntimeSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    state_dir: Path = Field(
        default=ROOT / ".limelight" / "dev",
        validation_alias="LIMELIGHT_STATE_DIR",
        description="Git-ignored folder with the Kafka jars, data, logs and pid files.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="Use this PostgreSQL (an admin login) instead of starting the bundled one.",
    )
    kafka_port: int = Field(default=9092, validation_alias="LIMELIGHT_KAFKA_PORT")
    kafka_controller_port: int = Field(default=9093, validation_alias="LIMELIGHT_KAFKA_CONTROLLER_PORT")
    kafka_heap: str = Field(default="512m", validation_alias="LIMELIGHT_KAFKA_HEAP")
    gateway_port: int = Field(default=8000, validation_alias="LIMELIGHT_GATEWAY_PORT")
    discovery_port: int = Field(default=8001, validation_alias="LIMELIGHT_DISCOVERY_PORT")
    audit_port: int = Field(default=8002, validation_alias="LIMELIGHT_AUDIT_PORT")
    attribution_port: int = Field(default=8003, validation_alias="LIMELIGHT_ATTRIBUTION_PORT")
    gateway_operator_port: int | None = Field(default=None, validation_alias="LIMELIGHT_GATEWAY_OPERATOR_PORT")
    database_name: str = Field(default="limelight", validation_alias="LIMELIGHT_DATABASE_NAME")
    log_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        validation_alias="LIMELIGHT_LOG_MAX_BYTES",
        description="A service log is rotated once it would pass this size.",
    )
    log_backups: int = Field(
        default=3, ge=1, le=100, validation_alias="LIMELIGHT_LOG_BACKUPS", description="Rotated logs kept per service."
    )

    @field_validator("state_dir")
    @classmethod
    def _anchor_at_repository(cls, value: Path) -> Path:
        # Kafka runs with its own folder as working directory, so a relative path would name a
        # different place for each process; anchor it where the default lives, not at the cwd.
        return value if value.is_absolute() else ROOT / value

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def operator_port(self) -> int:
        # Follows the gateway's port unless set, so platforms on different ports never share it.
        return self.gateway_operator_port or self.gateway_port + 90

    def port(self, service: str) -> int:
        return getattr(self, f"{service}_port")

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    @property
    def jars_dir(self) -> Path:
        # Jars are the same for every state folder; share them between dev and test runs.
        return ROOT / ".limelight" / "kafka-libs"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"
