"""Database mechanics: one naming convention, a declarative base bound to a service's schema,
an async engine per service, and the unit of work owned by the edge (request or handler).

Two request dependencies: `Session`, one transaction committed before the response is sent
(every endpoint that writes, and reads that need several statements to see one snapshot), and
`ReadSession`, for reads: no BEGIN/COMMIT around them (each statement is atomic in its own
implicit transaction) and refused writes. See docs/decisions/0011-read-path.md.

Both come bound to the tenant of the request's verified identity (shared.tenancy): statements on
tenant-owned tables are filtered by it, on either path. See docs/decisions/0013-tenant-isolation.md.
"""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn, TypeVar

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import Connection, Executable, MetaData, Result, ScalarResult, Select, TextualSelect, event, text
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, UOWTransaction
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.util import greenlet_spawn

from shared import tenancy

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


def transaction_memo(session: AsyncSession, name: str) -> dict:
    """A dict that lives as long as the session's current transaction: what a transaction learnt
    or did once and need not ask again (a consumer applies a batch of events in one), forgotten
    with it, so a rolled-back transaction's memo never reaches the next. Inside a savepoint the
    memo is the savepoint's own (what it did may be rolled back alone), started empty, and the
    enclosing transaction's is there again when the savepoint ends (a memo may hold writes kept
    for the transaction's end: orders/batch.py)."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        return {}  # no transaction yet (one begins with the first statement): nothing to remember in
    memos = session.info.setdefault(name, {})  # transaction -> its memo
    memo = memos.get(transaction)
    if memo is None:
        for ended in [t for t in memos if not t.is_active]:
            del memos[ended]
        memo = memos[transaction] = {}
    return memo


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


def _drop_closed(dbapi_connection, _record, _proxy) -> None:
    """Pool checkout: a connection the server closed (a restart, a failover, an idle timeout)
    is replaced before anyone uses it. asyncpg has seen the socket close while the connection sat
    idle in the pool, so the check is a flag, not a round trip (unlike pre-ping); raising
    DisconnectionError makes the pool open a fresh connection in its place."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def make_engine(
    database_url: str,
    *,
    pool_size: int = 5,
    application_name: str = "limelight",
    server_settings: Mapping[str, str] | None = None,
) -> AsyncEngine:
    """`server_settings`: PostgreSQL settings of every connection of this engine (a service whose
    queries need other planner settings than the server's, e.g. discovery's search)."""
    engine = create_async_engine(
        database_url,
        # Every connection the service may open is kept once opened: overflow connections
        # are closed on return, so under steady concurrency each request beyond the pool
        # paid a new PostgreSQL backend (a fork and an authentication).
        pool_size=2 * pool_size,
        max_overflow=0,
        # No pre-ping: it cost three round trips per checkout (begin, select 1, rollback).
        # `_drop_closed` replaces, for free, the connections the server is known to have closed;
        # one whose close has not reached us yet fails its first statement, SQLAlchemy then
        # invalidates the whole pool and that one request answers 503 (shared.errors).
        pool_pre_ping=False,
        # A many-row INSERT … RETURNING (a batch's new orders, decisions, ledger entries) goes in
        # pages of at most 64 rows: its statement texts, and so the prepared statements and
        # plans kept per connection, repeat from batch to batch, where one text per row count
        # made PostgreSQL parse a statement of thousands of parameters afresh (~13 ms for 300
        # orders) on almost every batch.
        insertmanyvalues_page_size=64,
        connect_args={"server_settings": {**(server_settings or {}), "application_name": application_name}},
    )
    event.listen(engine.sync_engine, "do_connect", _connect)
    event.listen(engine.sync_engine, "checkout", _drop_closed)
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
    tenant = tenancy.request_tenant(request)
    async with sessionmaker() as session, session.begin():
        if tenant is not None:
            tenancy.bind_tenant(session, tenant)
        yield session


# scope="function": the commit happens before the response is sent, so a 2xx is never
# returned for a transaction that then fails to commit.
Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]


# The dialect ReadStatements are compiled with: every engine of the project is
# postgresql+asyncpg, and the SQL text it renders ($n parameters, bind casts) is what the
# driver's own `fetch` takes.
_DIALECT = PGDialect_asyncpg()


class Row(asyncpg.Record):
    """A record whose columns also read as attributes (`row.created_at`), like an ORM object or
    a SQLAlchemy Row, so the code mapping a result to a response takes any of them."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class ReadStatement:
    """A SELECT compiled once, for `Reads.fetch`: its SQL text and the order of its parameters.

    Building and compiling a statement cost a list request more CPU time than running it, and
    SQLAlchemy's execution path (session, result, ORM loading, a greenlet hop per round trip)
    several times what asyncpg spends on the same `fetch`. Build each statement *shape* once, at
    import or in a cache keyed by what changes its text, with `bindparam()` for everything a
    request supplies; only `fetch(sql, *values)` happens per request. Constant values in the
    statement (`.limit(1)`, `== "x"`) are its defaults; a request's parameters override them.

    Only SELECTs: a ReadSession must not write (see `Reads`). `query` is the SQLAlchemy
    statement itself, for `Session` (`rows()` runs it there with the same parameters, and the
    ORM filter of shared.tenancy restricts it). The SQL run on the raw driver is restricted when
    compiled: `tenant_scoped` statements read only the bound tenant's rows (`Reads.fetch`).
    """

    __slots__ = ("query", "entity", "tenant_scoped", "_sql", "_names", "_defaults", "_processors")

    def __init__(self, query: Select | TextualSelect):
        if not isinstance(query, Select | TextualSelect):
            raise ReadOnlySessionError(f"a ReadStatement is a SELECT, not {type(query).__name__}")
        self.query = query
        # select(Model): a Session returns the ORM objects themselves, not rows holding them.
        descriptions = query.column_descriptions if isinstance(query, Select) else []
        self.entity = len(descriptions) == 1 and descriptions[0]["expr"] is descriptions[0]["entity"]
        # Now, not on first use: a statement that cannot be a ReadStatement fails where it is built.
        restricted, self.tenant_scoped = tenancy.restrict_statement(query)
        self._compile(restricted)

    def _compile(self, query: Select | TextualSelect) -> None:
        compiled = query.compile(dialect=_DIALECT)
        if compiled.literal_execute_params or compiled.post_compile_params:
            # An expanding IN (or a literal_execute parameter) renders differently per call.
            raise ValueError("a ReadStatement cannot hold expanding or literal-execute parameters; use execute()")
        names = tuple(compiled.positiontup or ())
        binds = {bind.key: bind for bind in compiled.binds.values()}
        self._defaults = {name: binds[name].effective_value for name in names if not binds[name].required}
        self._processors = tuple(
            (index, compiled._bind_processors[name])
            for index, name in enumerate(names)
            if name in compiled._bind_processors
        )
        self._names = names
        self._sql: str = compiled.string

    def sql_and_values(self, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        sql = self._sql
        defaults = self._defaults
        try:
            values = [params[name] if name in params else defaults[name] for name in self._names]
        except KeyError as exc:
            raise TypeError(f"missing parameter {exc.args[0]!r} for a ReadStatement") from None
        for index, process in self._processors:
            values[index] = process(values[index])
        return sql, values


# What asyncpg raises for a statement that failed or a connection that broke (a command
# timeout is a TimeoutError, an OSError; a connection killed mid-operation can leave its protocol
# in a state that raises InternalClientError, which SQLAlchemy translates too); anything else raised around a driver call is a bug
# of ours and goes up untouched, with its traceback.
DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError, OSError)


def raise_as_sqlalchemy(connection: Connection, error: Exception, sql: str, values: Sequence[Any]) -> NoReturn:
    """Raise what SQLAlchemy would have for `error` (one of DRIVER_ERRORS) from the driver: the
    DBAPI translation, then the engine's handling (a DBAPIError, `connection_invalidated` and the
    pool invalidated when the connection was lost), so callers and shared.errors see one kind of
    failure. Runs in a greenlet: invalidating closes connections through the adapter."""
    dbapi = connection.dialect.loaded_dbapi
    try:
        connection.connection.dbapi_connection._handle_exception(error)
    except dbapi.Error as translated:
        connection._handle_dbapi_exception(translated, sql, tuple(values), None, None)
    except OSError as broken:
        # The adapter translates asyncpg's own errors only: a socket that broke under the driver
        # (a reset, a command timeout) is an OperationalError caused by it (shared.errors: a reset
        # is a 503, as a lost connection is).
        translated = dbapi.OperationalError(str(broken) or type(broken).__name__, broken)
        translated.__cause__ = broken
        connection._handle_dbapi_exception(translated, sql, tuple(values), None, None)
    # _handle_exception always raises, translated or not; nothing reaches this line.
    raise error


class Reads:
    """What a `ReadSession` is: `fetch` of a `ReadStatement`, plus the `execute`, `scalar`,
    `scalars` and `get` of an AsyncSession, each run on its own pooled connection outside any
    transaction and returned fully buffered.

    A connection per statement instead of one per request: nothing spans two statements
    anyway, and the object holds no connection between calls, so the dependency is a plain
    value and not a generator. FastAPI's generator dependencies (an exit stack and a shielded
    cancel scope per request) cost more than the query itself.

    `fetch` is the fast path: the compiled SQL runs with asyncpg's own `fetch` on the raw driver
    connection, checked out of the same SQLAlchemy pool. The SQLAlchemy adapter is bypassed, so
    nothing issues a BEGIN: the statement runs in its own implicit transaction, and the
    connection goes back with none open. The other methods take any statement through an
    AsyncSession in autocommit, for ORM loading or one-off queries.

    A statement that fails because its pooled connection was dead (the server restarted) is run
    once more on a fresh connection: it wrote nothing, so running it again is safe, and the
    client gets its answer instead of a 503. Another failure goes to the caller (a 503 when the
    database is down, shared.errors).
    """

    def __init__(self, engine: AsyncEngine):
        self._engine = engine
        self._sessionmaker = make_read_sessionmaker(engine)
        self._transactional = async_sessionmaker(
            engine, sync_session_class=_ReadOnlySession, expire_on_commit=False, autoflush=False
        )
        self._tenant: tenancy.Binding = None

    @property
    def tenant(self) -> tenancy.Binding:
        """What this ReadSession is bound to (shared.tenancy)."""
        return self._tenant

    def for_tenant(self, tenant: tenancy.Binding) -> "Reads":
        """The same reads bound to `tenant` (shared.tenancy): a copy sharing the pool, one per request."""
        bound = object.__new__(Reads)
        bound._engine, bound._sessionmaker, bound._tenant = self._engine, self._sessionmaker, tenant
        bound._transactional = self._transactional
        return bound

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A read-only session in one transaction, for the reads whose statements must agree or
        that set something for their transaction only (`SELECT set_config(name, value, true)`,
        i.e. SET LOCAL, which outside a transaction would do nothing). Writes are refused."""
        async with self._transactional(info={tenancy.TENANT_KEY: self._tenant}) as session, session.begin():
            yield session

    async def fetch(self, statement: ReadStatement, /, **params: Any) -> list[Row]:
        if statement.tenant_scoped:
            params[tenancy.TENANT_PARAM] = tenancy.raw_tenant(self._tenant)
        sql, values = statement.sql_and_values(params)
        try:
            return await self._fetch_once(sql, values)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            return await self._fetch_once(sql, values)

    async def _fetch_once(self, sql: str, values: list[Any]) -> list[Row]:
        async with self._engine.connect() as connection:
            pooled = await connection.get_raw_connection()
            try:
                return await pooled.driver_connection.fetch(sql, *values, record_class=Row)
            except DRIVER_ERRORS as error:  # re-raised as SQLAlchemy's DBAPIError, never swallowed
                await greenlet_spawn(raise_as_sqlalchemy, connection.sync_connection, error, sql, values)
                raise

    async def _run(self, call: Callable[[AsyncSession], Awaitable[R]]) -> R:
        try:
            return await self._once(call)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            return await self._once(call)

    async def _once(self, call: Callable[[AsyncSession], Awaitable[R]]) -> R:
        async with self._sessionmaker(info={tenancy.TENANT_KEY: self._tenant}) as session:
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


async def rows(session: AsyncSession | Reads, statement: ReadStatement, /, **params: Any) -> list:
    """The rows of `statement` through either dependency, so one repository function serves
    both: `Row`s from a `ReadSession` (the fast path), and from a `Session` (in its transaction,
    e.g. a read before a write) the ORM objects of a `select(Model)`, or Rows. Both read as
    attributes."""
    if isinstance(session, Reads):
        return await session.fetch(statement, **params)
    result = await session.execute(statement.query, params)
    return list(result.scalars() if statement.entity else result)


async def _request_reads(request: Request) -> Reads:
    reads: Reads = request.app.state.reads
    tenant = tenancy.request_tenant(request)
    return reads if tenant is None else reads.for_tenant(tenant)


# For endpoints that only read: each statement runs in its own implicit transaction (atomic,
# one snapshot per statement, not across statements; use `Session` when a read needs several
# statements to agree). Writes are refused. `async def` although it awaits nothing: FastAPI
# would run a plain `def` in a worker thread.
ReadSession = Annotated[Reads, Depends(_request_reads)]


@contextlib.asynccontextmanager
async def planned_per_execution(session: AsyncSession) -> AsyncIterator[None]:
    """Statements in the block planned for their values (`plan_cache_mode = auto`), then the
    transaction's setting again: for a query whose best plan depends on how much data its values
    select, inside a transaction that plans generically (the order consumer's, ADR 0063)."""
    before = (await session.execute(text("SELECT current_setting('plan_cache_mode')"))).scalar_one()
    await session.execute(text("SET LOCAL plan_cache_mode = auto"))
    try:
        yield
    finally:
        await session.execute(text("SELECT set_config('plan_cache_mode', :value, true)"), {"value": before})
