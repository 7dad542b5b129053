"""Database mechanics: one naming convention, a declarative base bound to a service's schema,
an async engine per service, and the unit of work owned by the edge (request or handler).

Two request dependencies: `Session`, one transaction committed before the response is sent
(every endpoint that writes, and reads that need several statements to see one snapshot), and
`ReadSession`, for reads: no BEGIN/COMMIT around them (each statement is atomic in its own
implicit transaction) and refused writes. See docs/decisions/0011-read-path.md.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Executable, MetaData, Result, ScalarResult, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, UOWTransaction
from sqlalchemy.orm import Session as SyncSession

T = TypeVar("T")
R = TypeVar("R")

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


class ReadOnlySessionError(RuntimeError):
    """A write was attempted through a `ReadSession`: a bug in the endpoint, hence a 500."""


class _ReadOnlySession(SyncSession):
    """The synchronous session behind a `ReadSession`.

    Its connection is in autocommit mode, so a write would not wait for anything: an INSERT
    would be committed the moment it ran, whatever the endpoint did next. Only SELECTs are
    let through (a raw `text()` is not known to be one; use `select()` or
    `text(...).columns(...)`), and a flush, the ORM's way to write, is refused.
    """


@event.listens_for(_ReadOnlySession, "do_orm_execute")
def _only_selects(state: ORMExecuteState) -> None:
    if not state.is_select:
        raise ReadOnlySessionError(f"a ReadSession only runs SELECTs, not {type(state.statement).__name__}")


@event.listens_for(_ReadOnlySession, "before_flush")
def _no_flush(_session: SyncSession, _flush_context: UOWTransaction, _instances) -> None:
    raise ReadOnlySessionError("a ReadSession does not write; use Session")


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads, on the same pool as `make_sessionmaker`'s.

    AUTOCOMMIT leaves out the BEGIN and COMMIT the driver would wrap around the statement:
    two round trips, each a greenlet switch through SQLAlchemy's adapter, for nothing, as a
    single SELECT is atomic and sees one snapshot on its own. The isolation level goes back to
    the engine's default when the connection returns to the pool (SQLAlchemy resets it), so
    `Session` never gets an autocommit connection.
    """
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        sync_session_class=_ReadOnlySession,
        expire_on_commit=False,
        autoflush=False,
    )


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


class Reads:
    """What a `ReadSession` is: the `execute`, `scalar`, `scalars` and `get` of an AsyncSession,
    each run on its own pooled connection in autocommit and returned fully buffered.

    A connection per statement instead of one per request: in autocommit nothing spans two
    statements anyway, and the object holds no connection between calls, so the dependency is
    a plain value and not a generator. FastAPI's generator dependencies (an exit stack and a
    shielded cancel scope per request) cost more than the query itself.

    A statement that fails because its pooled connection was dead (the server restarted) is run
    once more on a fresh connection: it wrote nothing, so running it again is safe, and the
    client gets its answer instead of a 503. Another failure goes to the caller (a 503 when the
    database is down, shared.errors).
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]):
        self._sessionmaker = sessionmaker

    async def _run(self, call: Callable[[AsyncSession], Awaitable[R]]) -> R:
        try:
            return await self._once(call)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            return await self._once(call)

    async def _once(self, call: Callable[[AsyncSession], Awaitable[R]]) -> R:
        async with self._sessionmaker() as session:
            return await call(session)

    async def execute(self, statement: Executable, params=None, **kwargs) -> Result:
        async def run(session: AsyncSession) -> Result:
            # Frozen: ORM rows become objects now, while the session is open; once it is
            # closed they are detached with their columns loaded (nothing expires them).
            return (await session.execute(statement, params, **kwargs)).freeze()()

        return await self._run(run)

    async def scalar(self, statement: Executable, params=None, **kwargs) -> Any:
        return (await self.execute(statement, params, **kwargs)).scalar()

    async def scalars(self, statement: Executable, params=None, **kwargs) -> ScalarResult:
        return (await self.execute(statement, params, **kwargs)).scalars()

    async def get(self, entity: type[T], ident: Any, **kwargs) -> T | None:
        async def run(session: AsyncSession) -> T | None:
            return await session.get(entity, ident, **kwargs)

        return await self._run(run)


async def _request_reads(request: Request) -> Reads:
    return request.app.state.reads


# For endpoints that only read: each statement runs in its own implicit transaction (atomic,
# one snapshot per statement, not across statements; use `Session` when a read needs several
# statements to agree). Writes are refused. `async def` although it awaits nothing: FastAPI
# would run a plain `def` in a worker thread.
ReadSession = Annotated[Reads, Depends(_request_reads)]
