"""Tenant isolation by construction: a table marked `TenantOwned` can only be read and written
for the tenant its session is bound to. See docs/decisions/0013-tenant-isolation.md and
docs/guide/tenancy.md.

Three pieces, all here so that nothing else has to remember anything:

- `TenantOwned`, the mixin of every tenant-private model: a `tenant_id` column and a mark on its
  table.
- A binding per session (`session.info`): the request dependencies of shared.db bind the
  caller's tenant (`Session`, `ReadSession`), the consumers bind each event's tenant for its
  handler (`acting_for`). ORM statements on a tenant-owned entity then get
  `WHERE tenant_id = <bound tenant>` added (`with_loader_criteria`: every SELECT, UPDATE and
  DELETE, joins and eager loads included); a new row is stamped with the bound tenant when it is
  added to the session. A session with no tenant bound refuses (raises) every statement that
  touches a tenant-owned table: forgetting is a 500 in the tests, never a leak.
- The raw read path: `restrict_statement` adds the same condition, as a bound parameter, to a
  `shared.db.ReadStatement` when it is compiled; `Reads.fetch` supplies the bound tenant or
  refuses.

The one way out is explicit and greppable: `across_tenants(session, reason)`, for consumers and
housekeeping that work for the whole installation (the click redirect's slug lookup, the key
store's poll). Such a session reads every tenant's rows and must name the tenant of each row it
writes.
"""

from __future__ import annotations

import contextlib
import importlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy import Select, Table, TextClause, TextualSelect, bindparam, event, inspect
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column, with_loader_criteria
from sqlalchemy.sql import Join
from starlette.requests import Request

from shared.identity import IDENTITY_HEADER, current_identity, identity_of
from shared.tenant_statements import OWNED_MARK as _OWNED
from shared.tenant_statements import SHAPES_MAX, is_tenant_owned
from shared.tenant_statements import owned_tables as _owned_tables
from shared.tenant_statements import shape as _shape

# Where a session keeps its binding (`Session.info`).
TENANT_KEY = "limelight.tenant"
# The bound parameter a restricted ReadStatement takes the tenant in; `Reads.fetch` fills it.
TENANT_PARAM = "tenancy_tenant_id"
# Marks a tenant-owned table (`Table.info`).

# Every tenant-owned table, for the checks that only have SQL text to go on, and its model.
OWNED_TABLES: list[Table] = []
_MODEL_OF: dict[Table, type] = {}


class TenantIsolationError(RuntimeError):
    """A statement or a write that would cross tenants: a bug in the code that issued it (a 500)."""


class TenantNotBound(TenantIsolationError):
    """A tenant-owned table touched through a session bound to no tenant."""


@dataclass(frozen=True, slots=True)
class AcrossTenants:
    """The binding of a session that works for every tenant; `reason` says why, for the reader."""

    reason: str


Binding = uuid.UUID | AcrossTenants | None


class TenantOwned:
    """Mixin of every tenant-private model: `class Shortlist(TenantOwned, Base)` (mixin first).

    The column is set from the session's binding when the row is added; code never assigns it,
    and a row can never move to another tenant (changing it raises at flush).
    """

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), comment="The tenant that owns the row; filtered on by shared.tenancy."
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)  # the declarative base maps the class and makes its table
        table = getattr(cls, "__table__", None)
        if isinstance(table, Table) and not table.info.get(_OWNED):
            table.info[_OWNED] = True
            OWNED_TABLES.append(table)
            _MODEL_OF[table] = cls


# --- binding ----------------------------------------------------------------------------------


def _info(session: Session | AsyncSession) -> dict:
    return session.info  # AsyncSession.info is its sync session's


def bound_tenant(session: Session | AsyncSession) -> Binding:
    return _info(session).get(TENANT_KEY)


def bind_tenant(session: Session | AsyncSession, tenant_id: uuid.UUID) -> None:
    """Bind a fresh session to one tenant for its whole life (a request's)."""
    current = bound_tenant(session)
    if current is not None and current != tenant_id:
        raise TenantIsolationError("this session is already bound; a session serves one tenant")
    _info(session)[TENANT_KEY] = tenant_id


def across_tenants(session: Session | AsyncSession, reason: str) -> None:
    """The explicit opt-out: this session reads and writes every tenant's rows. Say why."""
    if not reason.strip():
        raise ValueError("say why this session works across tenants")
    _info(session)[TENANT_KEY] = AcrossTenants(reason)


@contextlib.contextmanager
def acting_for(session: Session | AsyncSession, tenant_id: uuid.UUID | None) -> Iterator[None]:
    """Bind `session` to `tenant_id` (None: to no tenant) for a block, then restore its binding:
    one consumer transaction applies events of several tenants, each under its own."""
    info = _info(session)
    before = info.get(TENANT_KEY)
    info[TENANT_KEY] = tenant_id
    try:
        yield
    finally:
        info[TENANT_KEY] = before


def request_tenant(request: Request) -> uuid.UUID | None:
    """The tenant of the request's verified identity, if it has one: from the request state
    (the gateway's edge, or a dependency that already verified the token), else from the
    identity token itself, so the answer does not depend on the order dependencies run in. A
    request without a token (a public route) has no tenant; a bad token is a 401."""
    identity = identity_of(request.scope)
    if identity is None:
        token = request.headers.get(IDENTITY_HEADER)
        if not token:
            return None
        identity = current_identity(request, token)
    return identity.tenant_id


# --- the ORM filter -------------------------------------------------------------------------------


# A statement built once, at import (`built_once`), is restricted once per tenant: the filter
# keeps the restricted copy beside the statement (held, so its id names it while kept), and the
# copy's own cache key is then memoised too. Bounded like the shapes (shared.tenant_statements). The mark is the statement
# object itself, not an execution option: a statement derived from a marked one (`.limit()`, or
# the ORM's own for a subquery load) would inherit an option and fill the cache with copies.
_BUILT_ONCE: dict[int, Any] = {}
_RESTRICTED: dict[tuple[int, Any, str], tuple[Any, Any]] = {}


def built_once(statement: Any) -> Any:
    """`statement`, marked as built once (at import) and run many times with bind parameters: the
    ORM filter keeps its restricted copy per tenant instead of restricting it again on every run.
    Statements derived from it are not marked."""
    _BUILT_ONCE[id(statement)] = statement  # held for good: module-level statements live as long
    return statement


def _restricted(statement: Any, tenant: uuid.UUID, how: str, restrict: Any) -> Any:
    """`restrict(statement)`, kept per tenant and way (`how`) for a statement marked `built_once`."""
    if _BUILT_ONCE.get(id(statement)) is not statement:
        return restrict(statement)
    key = (id(statement), tenant, how)
    kept = _RESTRICTED.get(key)
    if kept is None or kept[0] is not statement:
        if len(_RESTRICTED) >= SHAPES_MAX:
            _RESTRICTED.clear()
        kept = _RESTRICTED[key] = (statement, restrict(statement))
    return kept[1]


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    # Loads of the attributes of objects already in the session: the statement that loaded them
    # was filtered. Relationship loads are filtered like any other statement.
    if state.is_column_load or not OWNED_TABLES:
        return
    if isinstance(state.statement, TextClause | TextualSelect):
        _check_text(state)
        return
    owned, through_orm, flat = _shape(state.statement, lambda: state.all_mappers)
    if not owned:
        return
    binding = state.session.info.get(TENANT_KEY)
    names = ", ".join(sorted(t.fullname for t in owned))
    if binding is None:
        raise TenantNotBound(f"{names} is tenant-owned and this session is bound to no tenant")
    if isinstance(binding, AcrossTenants):
        return
    if not owned <= through_orm:
        # with_loader_criteria filters ORM entities; a Core table reference would go unfiltered.
        raise TenantIsolationError(f"query {names} through its ORM entity, not its Table")
    if state.is_insert:
        _check_inserted(state, binding, names)
        return
    tenant = binding
    if flat and _restricted_by_where(state, owned):
        # The common cases, a plain WHERE: a small part of with_loader_criteria's cost.
        state.statement = _restricted(state.statement, tenant, "where", lambda statement: statement.where(
            *(_MODEL_OF[t].tenant_id == tenant for t in _by_name(owned))))
        return
    # Aliases, subqueries, outer joins, relationship loads: the ORM adapts a lambda criterion to
    # each (analysed again on every execution, hence not the default).
    state.statement = _restricted(state.statement, tenant, "criteria", lambda statement: statement.options(
        with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id == tenant, include_aliases=True)))


def _named_owned_tables(sql: str) -> list[str]:
    """Tenant-owned tables whose name appears in SQL text (conservatively: any mention)."""
    sql = sql.lower()
    return [t.fullname for t in OWNED_TABLES if t.name.lower() in sql]


def _check_text(state: ORMExecuteState) -> None:
    """SQL text cannot be filtered: on a tenant-owned table it runs only across tenants."""
    statement = state.statement
    named = _named_owned_tables(str(statement.element if isinstance(statement, TextualSelect) else statement))
    if named and not isinstance(state.session.info.get(TENANT_KEY), AcrossTenants):
        raise TenantIsolationError(f"SQL text on {', '.join(named)} cannot be restricted to a tenant; use select()")


def _restricted_by_where(state: ORMExecuteState, owned: set[Table]) -> bool:
    """Whether a WHERE on the owned tables restricts every row a flat statement reads or changes."""
    if state.is_select:
        return not state.is_relationship_load
    if state.is_update or state.is_delete:
        return owned == {state.statement.table._deannotate()}
    return False


def _check_inserted(state: ORMExecuteState, tenant: uuid.UUID, names: str) -> None:
    """An INSERT statement (a bulk write) is let through only with its rows as parameters, each
    naming the bound tenant: nothing in it can be filtered, so everything in it is checked."""
    parameters = state.parameters
    rows = parameters if isinstance(parameters, list) else [parameters] if parameters else []
    if not rows or any(row.get("tenant_id") != tenant for row in rows):
        raise TenantIsolationError(f"an INSERT into {names} passes its rows as parameters, each with tenant_id")


@event.listens_for(Mapper, "mapper_configured")
def _no_relationship_from_shared_to_private(mapper: Mapper, cls: type) -> None:
    """A joined eager load from a shared model would bring tenant-owned rows along in a statement
    that names only the shared table: refused, query the private side explicitly."""
    if issubclass(cls, TenantOwned):
        return
    for relationship in mapper.relationships:
        if issubclass(relationship.mapper.class_, TenantOwned):
            raise TenantIsolationError(
                f"{cls.__name__}.{relationship.key}: a shared model cannot have a relationship to "
                f"tenant-owned {relationship.mapper.class_.__name__}"
            )


@event.listens_for(Session, "transient_to_pending")
def _stamp_tenant(session: Session, instance: Any) -> None:
    """A new tenant-owned row takes the session's tenant the moment it is added (not at flush:
    a consumer's transaction may have moved on to another tenant's event by then)."""
    if not isinstance(instance, TenantOwned):
        return
    binding = session.info.get(TENANT_KEY)
    kind = type(instance).__name__
    refused: TenantIsolationError | None = None
    if binding is None:
        refused = TenantNotBound(f"a {kind} belongs to a tenant and this session is bound to no tenant")
    elif isinstance(binding, AcrossTenants):
        if instance.tenant_id is None:
            refused = TenantIsolationError(f"a {kind} written across tenants must name its tenant_id")
    elif instance.tenant_id is None:
        instance.tenant_id = binding
    elif instance.tenant_id != binding:
        refused = TenantIsolationError(f"a {kind} of another tenant cannot be written through this session")
    if refused is not None:
        session.expunge(instance)  # already pending when this event runs: nothing of it is written
        raise refused


@event.listens_for(Session, "before_flush")
def _tenants_do_not_change(session: Session, _context: Any, _instances: Any) -> None:
    for instance in session.dirty:
        if isinstance(instance, TenantOwned) and inspect(instance).attrs.tenant_id.history.has_changes():
            raise TenantIsolationError(f"a {type(instance).__name__} cannot move to another tenant")


# --- the raw read path --------------------------------------------------------------------------


def _direct_tables(from_clause: Any, found: list[tuple[Table, bool]], outer: bool = False) -> None:
    """The tables a FROM item names, with whether they sit on the nullable side of an outer join."""
    if isinstance(from_clause, Join):
        _direct_tables(from_clause.left, found, outer or from_clause.full)
        _direct_tables(from_clause.right, found, outer or from_clause.isouter)
    elif isinstance(from_clause, Table):
        found.append((from_clause._deannotate(), outer))


def _by_name(tables: set[Table]) -> list[Table]:
    return sorted(tables, key=lambda t: t.fullname)


def _direct_owned(query: Select) -> set[Table]:
    """The tenant-owned tables a SELECT reads directly: in its FROM list, not on the nullable side
    of an outer join, not aliased. A WHERE on these restricts the rows it returns."""
    direct: list[tuple[Table, bool]] = []
    for from_clause in query.get_final_froms():
        _direct_tables(from_clause, direct)
    return {table for table, outer in direct if not outer and is_tenant_owned(table)}


def restrict_statement(query: Select | TextualSelect) -> tuple[Select | TextualSelect, bool]:
    """`query` restricted to the bound tenant, as `WHERE <table>.tenant_id = :tenancy_tenant_id`
    for every tenant-owned table it reads, and whether it needed it. For statements compiled
    once and run on the raw driver (shared.db.ReadStatement), where no ORM event fires.

    Refused (TenantIsolationError, where the statement is built): a tenant-owned table in a
    subquery or on the nullable side of an outer join (a WHERE there would filter the wrong
    rows), and SQL text naming one (nothing in it can be checked): use `Session` for those.
    """
    if isinstance(query, TextualSelect):
        named = _named_owned_tables(str(query.element))
        if named:
            raise TenantIsolationError(f"SQL text cannot be restricted to a tenant; build {named} queries with select()")
        return query, False
    owned = _owned_tables(query)
    if not owned:
        return query, False
    restricted = _direct_owned(query)
    if restricted != owned:
        names = ", ".join(sorted(t.fullname for t in owned - restricted))
        raise TenantIsolationError(f"{names}: in a subquery or an outer join; read it through Session")
    tenant = bindparam(TENANT_PARAM, type_=UUID(as_uuid=True), required=True)
    for table in _by_name(restricted):
        query = query.where(table.c.tenant_id == tenant)
    return query, True


def raw_tenant(binding: Binding) -> uuid.UUID:
    """The value of TENANT_PARAM for a restricted statement run with `binding`."""
    if isinstance(binding, uuid.UUID):
        return binding
    if binding is None:
        raise TenantNotBound("a tenant-owned table read through a ReadSession bound to no tenant")
    raise TenantIsolationError("the raw read path serves one tenant; read across tenants through Session")


# --- the route mark ---------------------------------------------------------------------------

# OpenAPI extension on every operation that reads or changes tenant-private resources: the
# cross-tenant test matrix (tests/tenancy) walks exactly these.
TENANT_PRIVATE = "x-tenant-private"
# With TENANT_PRIVATE, on a route that reads an object of the shared catalogue (a creator) through
# the caller's private data (its lists): another tenant gets its own answer (200), which must hold
# nothing of the first tenant's. The matrix checks that instead of a 404.
TENANT_VIEW = "x-tenant-view"


def _owns_tenant_tables(module_name: str) -> bool:
    """Whether the domain package of `module_name` defines a TenantOwned model (its models.py)."""
    package = module_name.rpartition(".")[0]
    try:
        models = importlib.import_module(f"{package}.models")
    except ModuleNotFoundError:
        return False
    return any(
        isinstance(value, type) and issubclass(value, TenantOwned) and value is not TenantOwned
        and value.__module__ == models.__name__
        for value in vars(models).values()
    )


def declare_tenant_private(router: APIRouter) -> APIRouter:
    """Mark every route of `router` tenant-private, for routes whose tables are filtered by tenant
    in their own repository rather than through TenantOwned (the gateway's keys and webhook
    sources): the cross-tenant matrix then walks them too. Call before the router is included."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            route.openapi_extra = {**(route.openapi_extra or {}), TENANT_PRIVATE: True}
    return router


def mark_tenant_private(router: APIRouter) -> APIRouter:
    """Mark, in the OpenAPI document, every route of `router` whose domain package owns a
    tenant-owned table (derived, so a new route there cannot be left out). A route elsewhere that
    reaches tenant-private data declares it itself: `openapi_extra={TENANT_PRIVATE: True}`."""
    for route in router.routes:
        if isinstance(route, APIRoute) and _owns_tenant_tables(route.endpoint.__module__):
            route.openapi_extra = {**(route.openapi_extra or {}), TENANT_PRIVATE: True}
    return router
