"""PostgreSQL 16 with pgvector: the bundled `pgserver` one, or any server given by DATABASE_URL.

One database, one schema and one login role per service. A role owns its schema and has no
grant on the others, so a service reading another's tables gets "permission denied".
"""

import asyncio
import logging
import json
import os
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import asyncpg
import pgserver
from pgserver import pg_ctl
from pgserver.utils import PostmasterInfo
from sqlalchemy.engine import make_url

from runtime.config import SERVICES, RuntimeSettings

# pgserver narrates every handle it opens and closes at INFO.
logging.getLogger("pgserver").setLevel(logging.WARNING)


def role_name(service: str) -> str:
    return f"limelight_{service}"


@dataclass
class Server:
    """How to reach the server as an administrator."""

    admin_dsn: str  # asyncpg DSN to the maintenance database
    host: str  # host name, or the unix socket directory
    port: int
    local: bool  # True for the bundled pgserver: unix socket, trust authentication


class Postgres:
    def __init__(self, settings: RuntimeSettings):
        self.s = settings
        self.pgdata = settings.state_dir / "postgres"
        self._secrets_file = settings.state_dir / "db-secrets.json"

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> Server:
        if self.s.database_url:
            url = make_url(self.s.database_url)
            return Server(
                admin_dsn=_asyncpg_dsn(self.s.database_url), host=url.host or "localhost", port=url.port or 5432,
                local=False,
            )
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self.running_info() is None:
            # pgserver keeps one handle per data folder for the life of the process and hands it
            # back without looking: after the server died (a crash, kill -9) that handle would
            # name a server that is gone, so it is dropped and the server started anew.
            pgserver.PostgresServer._instances.pop(self.pgdata.resolve(), None)
        server = pgserver.get_server(self.pgdata, cleanup_mode=None)  # keeps running after we exit
        info = server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        return Server(
            admin_dsn=f"postgresql://postgres@/postgres?host={quote(socket_dir)}", host=socket_dir, port=info.port,
            local=True,
        )

    def running_info(self):
        """Postmaster info of the bundled server if it is running (None otherwise)."""
        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        return info if info is not None and info.is_running() else None

    def stop(self) -> bool:
        if self.s.database_url or self.running_info() is None:
            return False
        # PostgreSQL refuses to run as root; pgserver then runs it as its own system user.
        user = "pgserver" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=user)
        return True

    # -- bootstrap -----------------------------------------------------------------------
    def _passwords(self) -> dict[str, str]:
        """Per-service passwords for an external server, generated once, kept 0600 in the state folder."""
        if self._secrets_file.exists():
            stored = json.loads(self._secrets_file.read_text())
        else:
            stored = {}
        if any(s not in stored for s in SERVICES):
            stored.update({s: secrets.token_urlsafe(24) for s in SERVICES if s not in stored})
            self._secrets_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(stored, fh)
        return stored

    def database(self, server: Server) -> str:
        if server.local:
            return self.s.database_name
        return make_url(self.s.database_url).database or self.s.database_name

    def bootstrap(self, server: Server) -> None:
        asyncio.run(self._bootstrap(server))

    async def _bootstrap(self, server: Server) -> None:
        database = self.database(server)
        if server.local:
            conn = await asyncpg.connect(server.admin_dsn)
            try:
                exists = await conn.fetchval("select 1 from pg_database where datname = $1", database)
                if not exists:
                    # CREATE DATABASE takes no bind parameters and the name comes from the
                    # operator's environment: the server quotes it (format %I).
                    statement = await conn.fetchval("select format('create database %I', $1::text)", database)
                    await conn.execute(statement)
            finally:
                await conn.close()
        passwords = None if server.local else self._passwords()
        await bootstrap_database(_with_database(server.admin_dsn, database), passwords)

    def service_url(self, server: Server, service: str) -> str:
        """SQLAlchemy URL for the service's own role."""
        role = role_name(service)
        database = self.database(server)
        if server.local:
            return f"postgresql+asyncpg://{role}@/{database}?host={quote(server.host)}"
        password = quote(self._passwords()[service], safe="")
        return f"postgresql+asyncpg://{role}:{password}@{server.host}:{server.port}/{database}"

    def version(self, server: Server) -> str:
        async def query() -> str:
            conn = await asyncpg.connect(server.admin_dsn)
            try:
                return await conn.fetchval("show server_version")
            finally:
                await conn.close()

        return asyncio.run(query())


async def bootstrap_database(admin_url: str, passwords: dict[str, str] | None) -> None:
    """Create pgvector and every service's login role and schema, idempotently.

    `admin_url` is an administrator login to the Limelight database itself (SQLAlchemy or
    asyncpg form). `passwords` maps each service to its role's password; None leaves the
    roles without one (the bundled server trusts its unix socket).
    """
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        async with conn.transaction():
            # pgvector lives in public once; PostgreSQL 16 already denies CREATE there to
            # PUBLIC, and the service roles keep USAGE so they can use the type.
            await conn.execute("create extension if not exists vector schema public")
            for service in SERVICES:
                role = role_name(service)
                if not await conn.fetchval("select 1 from pg_roles where rolname = $1", role):
                    await conn.execute(f'create role "{role}" login')
                if passwords is not None:
                    # ALTER ROLE takes no bind parameters, and a password may come from an
                    # operator's environment: the server quotes it (format %L) rather than us.
                    statement = await conn.fetchval(
                        "select format('alter role %I password %L', $1::text, $2::text)", role, passwords[service]
                    )
                    await conn.execute(statement)
                await conn.execute(f'create schema if not exists "{service}" authorization "{role}"')
                await conn.execute(f'alter schema "{service}" owner to "{role}"')
                await conn.execute(f'revoke all on schema "{service}" from public')
                # Tables are always schema-qualified; a role-level search_path would only make
                # Alembic mistake the service schema for the default one.
                await conn.execute(f'alter role "{role}" reset search_path')
    finally:
        await conn.close()


def _asyncpg_dsn(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(dsn: str, database: str) -> str:
    parsed = make_url(dsn)
    return parsed.set(database=database).render_as_string(hide_password=False)


