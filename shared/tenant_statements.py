"""What a statement names, for the tenant filter (shared.tenancy): which tenant-owned tables it
reads or writes, which of them it names through ORM entities (what `with_loader_criteria` and
the filter's WHERE restrict), which it names directly in a SELECT that does not also name their
entity (refused: nothing would restrict them), and whether it is flat. Remembered per statement
shape. docs/decisions/0013-tenant-isolation.md, 0057."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, Select, Table
from sqlalchemy.sql import visitors

# The mark `TenantOwned` puts on its table's `info`.
OWNED_MARK = "limelight.tenant_owned"


def is_tenant_owned(table: Any) -> bool:
    return isinstance(table, Table) and bool(table.info.get(OWNED_MARK))


def tables_of(element: Any) -> Table | None:
    kind = element.__visit_name__
    if kind == "table":
        return element
    if kind == "column" or kind in ("insert", "update", "delete"):
        table = getattr(element, "table", None)
        return table if isinstance(table, Table) else None
    return None


# FROM items that a WHERE on the statement's own tables might not restrict.
_NESTED = frozenset({"select", "join", "alias", "subquery", "cte", "lateral", "compound_select", "textual_select",
                     "table_valued_alias", "values"})


def core_references(statement: Any) -> set[Table]:
    """The tenant-owned tables `statement` names directly — as a Core `Table` or one of its
    columns — in a SELECT (or a UNION's branch, or a subquery) that does not also name them
    through an ORM entity. `with_loader_criteria` and the WHERE the filter adds restrict the
    entity's FROM items only, so such a SELECT would read every tenant's rows; checked per
    SELECT, not per statement, a UNION of `select(Model.name)` and `select(Model.__table__.c.name)`
    is refused too. A direct column beside its entity in one SELECT (the ORM's own `get` and
    lazy loads compare the plain primary key) refers to the entity's FROM item, which is
    restricted, and is allowed."""
    found: set[Table] = set()
    levels = [statement]
    while levels:
        level = levels.pop()
        direct: set[Table] = set()
        through_orm: set[Table] = set()
        seen: set[int] = set()
        stack = list(_children(level))
        while stack:
            element = stack.pop()
            if id(element) in seen:
                continue
            seen.add(id(element))
            mapper = element._annotations.get("parentmapper")
            if mapper is not None:
                through_orm.update(mapper.tables)
                continue  # named through an ORM entity (plain or aliased)
            if isinstance(element, Select | CompoundSelect):
                levels.append(element)  # a SELECT of its own: its own FROM list
                continue
            if element.__visit_name__ in ("table", "column"):
                table = tables_of(element)
                if table is not None and is_tenant_owned(table):
                    direct.add(table)
            stack.extend(_children(element))
        found |= direct - through_orm
    return found


def _children(element: Any) -> Any:
    if isinstance(element, Select):
        # A SELECT's FROM list as written (`select_from`), not the one it derives from its
        # columns: derived from an ORM column, that is the plain table behind the entity.
        return [*_SELECT_CHILDREN(element, omit_attrs=("_from_obj", "_correlate", "_correlate_except")), *element._from_obj]
    return element.get_children()


# A SELECT's children but its FROM list (what `Select.get_children` adds to them).
_SELECT_CHILDREN = super(Select, Select).get_children


def analyse(statement: Any) -> tuple[set[Table], set[Table], bool]:
    """The tenant-owned tables `statement` reads or writes; the tables it names through ORM
    entities (plain or aliased), which `with_loader_criteria` can filter; and whether it is flat
    (no join, subquery or alias), so that every table it names is one of its FROM items.
    A table also named directly (`_core_references`) is left out of the second set."""
    owned: set[Table] = set()
    through_orm: set[Table] = set()
    # ORM joins and loader options (eager loads) are not elements of the statement yet.
    flat = not getattr(statement, "_setup_joins", ()) and not getattr(statement, "_with_options", ())
    for element in visitors.iterate(statement):
        annotations = element._annotations
        if annotations:
            mapper = annotations.get("parentmapper")
            if mapper is not None:
                through_orm.update(mapper.tables)
                if getattr(annotations.get("parententity"), "is_aliased_class", False):
                    flat = False
        if element is not statement and element.__visit_name__ in _NESTED:
            flat = False
        table = tables_of(element)
        if table is not None:
            # An ORM statement names its tables through annotated copies; compare the tables.
            table = table._deannotate()
            if is_tenant_owned(table):
                owned.add(table)
    return owned, through_orm - (core_references(statement) if owned else set()), flat


# What the ORM filter needs of a statement, by statement structure (SQLAlchemy's cache key: the
# tables, columns, ORM entities and aliases it names, without its parameter values). Statements
# are built anew on every call but their shapes repeat; walking each one's tree was ~20 % of the
# CPU of a consumed order. Bounded: cleared whole when full (a few hundred shapes in practice).
_SHAPES: dict[Any, tuple[frozenset[Table], frozenset[Table], bool]] = {}
SHAPES_MAX = 4096


def shape(statement: Any, mappers: Any = None) -> tuple[frozenset[Table], frozenset[Table], bool]:
    """analyse's answer, remembered per statement shape (afresh for a statement without a cache
    key); `mappers`, when given, is called once for the shape's ORM mappers (ORMExecuteState's
    `all_mappers`), whose tables join those named through ORM entities."""
    generate = getattr(statement, "_generate_cache_key", None)
    cache_key = generate() if generate is not None else None
    found = _SHAPES.get((cache_key.key, mappers is not None)) if cache_key is not None else None
    if found is None:
        owned, through_orm, flat = analyse(statement)
        if owned and mappers is not None:
            # The mappers' tables count as named through the ORM, unless named directly too.
            direct = core_references(statement)
            through_orm.update(table for mapper in mappers() for table in mapper.tables if table not in direct)
        found = (frozenset(owned), frozenset(through_orm), flat)
        if cache_key is not None:
            if len(_SHAPES) >= SHAPES_MAX:
                _SHAPES.clear()
            _SHAPES[(cache_key.key, mappers is not None)] = found
    return found


def owned_tables(statement: Any) -> frozenset[Table]:
    return shape(statement)[0]
