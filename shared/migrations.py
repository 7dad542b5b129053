"""Alembic mechanics shared by every service's migration environment.

Each service has its own Alembic environment (services/<name>/migrations); this module keeps
their env.py files to a few lines: explicit schema, a schema filter so autogenerate never
proposes touching another service's tables, and the version table inside the schema.
Migrations run as their own step (`limelight migrate`), never hidden in app start-up.
"""

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, database_url: str) -> Config:
    migrations = SERVICES_DIR / service / "migrations"
    cfg = Config(str(migrations / "alembic.ini"))
    cfg.set_main_option("script_location", str(migrations))
    # ConfigParser interpolation would read '%' in a password as syntax.
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def run_env(metadata: MetaData) -> None:
    """Body of a service's env.py: online migrations over asyncpg, confined to one schema."""
    schema = metadata.schema
    url = context.config.get_main_option("sqlalchemy.url")

    def include_name(name, type_, parent_names):
        if type_ == "schema":
            return name == schema
        return True

    def configure(connection: Connection | None = None, **kw) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_schemas=True,
            include_name=include_name,
            version_table_schema=schema,
            compare_type=True,
            **kw,
        )

    if context.is_offline_mode():
        configure(url=url, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        # Everything is schema-qualified; with the service schema first on the search path,
        # autogenerate would reflect its tables as the default schema's and see them as new.
        connection.exec_driver_sql("set search_path to public")
        # Close the implicit transaction the SET opened, or Alembic's would nest inside it and
        # be rolled back when the connection closes.
        connection.commit()
        configure(connection)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())
