"""Database mechanics: one naming convention, a declarative base bound to a service's schema,
an async engine per service, and the unit of work owned by the edge (request or handler).
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

# Constraint names come from here, never by hand, so migrations stay diffable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_base(schema: str) -> type[DeclarativeBase]:
    """A declarative base whose tables all live in `schema`."""

    class Base(DeclarativeBase):
        metadata = MetaData(schema=schema, naming_convention=NAMING_CONVENTION)

    return Base


def utcnow() -> datetime:
    return datetime.now(UTC)


def _connect(dialect, _record, cargs, cparams):
    # A refused or missing socket comes out of the driver as a bare OSError. As a DBAPI
    # OperationalError it reads like every other lost connection: a 503 in a request, a
    # retry in the relay and the consumers, instead of a bug.
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        raise OperationalError("connect", None, exc, connection_invalidated=True) from exc


def make_engine(database_url: str, *, pool_size: int = 5, application_name: str = "limelight") -> AsyncEngine:
    engine = create_async_engine(
        database_url,
        # Every connection the service may open is kept once opened: overflow connections
        # are closed on return, so under steady concurrency each request beyond the pool
        # paid a new PostgreSQL backend (a fork and an authentication).
        pool_size=2 * pool_size,
        max_overflow=0,
        # No pre-ping: it cost three round trips per checkout (begin, select 1, rollback). A
        # connection the server dropped fails its first statement instead; SQLAlchemy then
        # invalidates the whole pool and that one request answers 503 (shared.errors).
        pool_pre_ping=False,
        connect_args={"server_settings": {"application_name": application_name}},
    )
    event.listen(engine.sync_engine, "do_connect", _connect)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def database_ready(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        await conn.execute(text("select 1"))
    return True


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit when the endpoint returns, roll back if it raises."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session, session.begin():
        yield session


# scope="function": the commit happens before the response is sent, so a 2xx is never
# returned for a transaction that then fails to commit.
Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]
