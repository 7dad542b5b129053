"""One-shot jobs of a container deployment (docker-compose.yml): bootstrap, then migrate each service.

`limelight up` runs the same steps in one process (runtime/platform.py). In containers each is a
job of its own, so a service starts only once its own migrations have succeeded:

    python -m runtime.jobs bootstrap          # roles, schemas, pgvector, Kafka topics
    python -m runtime.jobs migrate discovery  # as the discovery role, from DATABASE_URL
    python -m runtime.jobs keys /keys/public /keys/gateway   # the installation's keys, once
"""

import asyncio
from pathlib import Path

import typer
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from runtime.config import SERVICES
from runtime.keys import write_key_files
from runtime.postgres import bootstrap_database, role_name
from runtime.topics import ensure_topics
from shared.migrations import upgrade
from shared.settings import ServiceSettings

app = typer.Typer(
    help="One-shot jobs run before the services start.", no_args_is_help=True, pretty_exceptions_enable=False
)


class BootstrapSettings(BaseSettings):
    """The bootstrap job's environment.

    It is given each service's own DATABASE_URL rather than bare passwords: the role then gets
    exactly the password its service will present, percent-decoding included.
    """

    # The URLs carry passwords: a validation error must not echo them into the job's log.
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False, hide_input_in_errors=True)

    admin_database_url: str = Field(
        description="URL of an administrator login to the Limelight database, e.g. "
        "postgresql+asyncpg://postgres:secret@db:5432/limelight",
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Comma-separated Kafka bootstrap servers."
    )
    discovery_database_url: str = Field(description="The discovery service's DATABASE_URL.")
    audit_database_url: str = Field(description="The audit service's DATABASE_URL.")
    attribution_database_url: str = Field(description="The attribution service's DATABASE_URL.")
    gateway_database_url: str = Field(description="The gateway's DATABASE_URL.")

    @model_validator(mode="after")
    def _service_urls_match_the_layout(self) -> "BootstrapSettings":
        database = make_url(self.admin_database_url).database
        for service, url in self.service_urls().items():
            parsed = make_url(url)
            if parsed.username != role_name(service):
                raise ValueError(f"{service.upper()}_DATABASE_URL must log in as {role_name(service)}")
            if not parsed.password:
                raise ValueError(f"{service.upper()}_DATABASE_URL has no password")
            if parsed.database != database:
                raise ValueError(
                    f"{service.upper()}_DATABASE_URL must use database {database!r}, as ADMIN_DATABASE_URL does"
                )
        return self

    def service_urls(self) -> dict[str, str]:
        return {service: getattr(self, f"{service}_database_url") for service in SERVICES}

    def role_passwords(self) -> dict[str, str]:
        return {service: make_url(url).password for service, url in self.service_urls().items()}


@app.command()
def bootstrap() -> None:
    """Create the database roles, schemas and pgvector, then the Kafka topics. Safe to rerun."""
    settings = BootstrapSettings()
    asyncio.run(bootstrap_database(settings.admin_database_url, settings.role_passwords()))
    typer.echo(f"database: roles and schemas ready for {', '.join(SERVICES)}")
    created = asyncio.run(ensure_topics(settings.kafka_bootstrap_servers))
    typer.echo(f"kafka: created {len(created)} topics" if created else "kafka: every topic exists")


@app.command()
def migrate(service: str = typer.Argument(help=f"One of: {', '.join(SERVICES)}.")) -> None:
    """Apply one service's migrations as that service's own role (its DATABASE_URL)."""
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
    upgrade(service, ServiceSettings().database_url)
    typer.echo(f"{service}: migrated to head")


@app.command()
def keys(
    public_dir: str = typer.Argument(help="Where the services' volume is mounted: gets identity_public_key."),
    gateway_dir: str = typer.Argument(help="Where the gateway's volume is mounted: gets its private keys."),
    attribution_dir: str | None = typer.Argument(
        None, help="Where attribution's volume is mounted: gets the public key and its hash key."),
) -> None:
    """Generate the installation's keys once (the gateway's Ed25519 identity pair and the key that
    encrypts webhook secrets, attribution's hash key), one file per setting, readable by the services' user only.
    Existing keys are kept: rerunning never invalidates tokens or stored secrets."""
    written = write_key_files(Path(public_dir), Path(gateway_dir), Path(attribution_dir) if attribution_dir else None)
    typer.echo(f"keys: wrote {', '.join(written)}" if written else "keys: every key exists")


if __name__ == "__main__":
    app()
