"""The isolation mechanism itself (shared.tenancy), on the real database: a session bound to a
tenant sees and changes only that tenant's rows, on the ORM path and on the raw read path; a
session bound to none refuses every statement on a tenant-owned table (fails closed); the
opt-out is explicit."""

import uuid

import pytest
import pytest_asyncio
from sqlalchemy import bindparam, delete, func, select, text, union_all, update
from sqlalchemy.orm import aliased

from services.discovery.creator import repository as creators
from services.discovery.creator.models import Creator
from services.discovery.shortlist.models import Shortlist, ShortlistEntry
from shared import tenancy
from shared.db import Reads, ReadStatement, make_sessionmaker
from shared.tenancy import TenantIsolationError, TenantNotBound, TenantOwned
from tests.conftest import unique_handle
from tests.tenancy.conftest import new_name

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

A, B = uuid.uuid4(), uuid.uuid4()
BY_ID = ReadStatement(select(Shortlist).where(Shortlist.id == bindparam("shortlist_id")))
ALL_NAMES = ReadStatement(select(Shortlist.name).order_by(Shortlist.name))


@pytest_asyncio.fixture
async def lists(engine) -> dict[uuid.UUID, uuid.UUID]:
    """One shortlist of tenant A and one of B, each with the same creator on it."""
    made = {A: uuid.uuid4(), B: uuid.uuid4()}
    creator_id = uuid.uuid4()
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.across_tenants(session, "test set-up writes two tenants' rows")
        session.add(Creator(id=creator_id, platform="x", handle=unique_handle("mech")))
        await session.flush()
        for tenant, shortlist_id in made.items():
            session.add(Shortlist(id=shortlist_id, tenant_id=tenant, name=new_name()))
            await session.flush()
            session.add(ShortlistEntry(shortlist_id=shortlist_id, creator_id=creator_id, tenant_id=tenant, tags=[]))
    yield made
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.across_tenants(session, "test clean-up")
        await session.execute(delete(Shortlist).where(Shortlist.id.in_(made.values())))
        await session.execute(delete(Creator).where(Creator.id == creator_id))


async def test_an_unbound_session_refuses_every_statement_on_a_tenant_owned_table(engine, lists):
    statements = [
        select(Shortlist),
        select(func.count()).select_from(Shortlist),
        select(Shortlist.__table__),
        select(Creator).join(ShortlistEntry, ShortlistEntry.creator_id == Creator.id),
        update(Shortlist).values(name="taken"),
        delete(ShortlistEntry),
    ]
    for statement in statements:
        async with make_sessionmaker(engine)() as session, session.begin():
            with pytest.raises(TenantNotBound):
                await session.execute(statement)
    async with make_sessionmaker(engine)() as session, session.begin():
        with pytest.raises(TenantNotBound):
            await session.get(Shortlist, lists[A])
        with pytest.raises(TenantNotBound):
            session.add(Shortlist(name=new_name()))


async def test_sql_text_on_a_tenant_owned_table_runs_only_across_tenants(engine, lists):
    statement = text("select count(*) from discovery.shortlists")
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.bind_tenant(session, A)
        with pytest.raises(TenantIsolationError):
            await session.execute(statement)
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.across_tenants(session, "the test counts every tenant's rows")
        assert (await session.execute(statement)).scalar() >= 2


async def test_an_unbound_session_still_reads_the_shared_catalogue(engine):
    async with make_sessionmaker(engine)() as session, session.begin():
        assert (await session.execute(select(func.count()).select_from(Creator))).scalar() >= 0


async def test_a_bound_session_reads_only_its_tenants_rows(engine, lists):
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.bind_tenant(session, A)
        ids = set((await session.execute(select(Shortlist.id).where(Shortlist.id.in_(lists.values())))).scalars())
        assert ids == {lists[A]}
        assert await session.get(Shortlist, lists[B]) is None
        # Joined and aliased entities are filtered too.
        entry = aliased(ShortlistEntry)
        joined = await session.execute(
            select(Shortlist.id, entry.shortlist_id).join(entry, entry.shortlist_id == Shortlist.id)
            .where(Shortlist.id.in_(lists.values()))
        )
        assert joined.all() == [(lists[A], lists[A])]
        counted = await session.execute(select(func.count()).select_from(ShortlistEntry).where(ShortlistEntry.shortlist_id == lists[B]))
        assert counted.scalar() == 0


async def test_a_table_named_both_through_its_entity_and_directly_is_refused(engine, lists):
    """Checked per reference, not per table (ADR 0057's gap): the ORM branch of these statements
    would be restricted and the Core one would read every tenant's rows."""
    table = Shortlist.__table__
    mixed = [
        union_all(select(Shortlist.name), select(table.c.name).where(table.c.id.in_(lists.values()))),
        select(Shortlist.name).where(Shortlist.id.in_(select(table.c.id).where(table.c.id.in_(lists.values())))),
        select(Shortlist.id).where(Shortlist.id.in_(lists.values())).union_all(select(table.c.id)),
        select(Shortlist.id).join(ShortlistEntry.__table__, ShortlistEntry.__table__.c.shortlist_id == Shortlist.id),
    ]
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.bind_tenant(session, A)
        for statement in mixed:
            with pytest.raises(TenantIsolationError, match="through its ORM entity"):
                await session.execute(statement)


async def test_orm_shapes_that_derive_their_from_list_still_run_restricted(engine, lists):
    """Columns, aliases and correlated subqueries of entities: their FROM lists are derived
    from the entities' plain tables, which are not direct references; and a plain column beside
    its entity in one SELECT (as the ORM's own `get` compares the primary key) names the
    entity's FROM item, which is restricted."""
    entry = aliased(ShortlistEntry)
    shapes = [
        select(Shortlist.id).where(Shortlist.id.in_(lists.values())),
        select(aliased(Shortlist).id),
        select(Shortlist.id).where(select(entry.shortlist_id).where(entry.shortlist_id == Shortlist.id).exists()),
        select(Shortlist.id).where(Shortlist.id.in_(select(ShortlistEntry.shortlist_id))),
        select(Shortlist.id).where(Shortlist.__table__.c.id.in_(lists.values())),
        select(Shortlist.id, func.count()).select_from(Shortlist.__table__).group_by(Shortlist.id),
    ]
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.bind_tenant(session, A)
        for statement in shapes:
            found = set((await session.execute(statement)).scalars())
            assert lists[A] in found and lists[B] not in found, statement


async def test_a_statement_built_once_is_restricted_anew_on_every_run(engine, lists):
    """The filter remembers what it learns of a statement by its shape (ADR 0057), and keeps the
    restricted copy of a statement marked built once per tenant: one statement object — a plain
    WHERE, and one with a subquery (restricted by loader criteria) — run for A, then B, then A,
    then unbound, gets each run's own restriction; one derived from a marked statement is
    restricted afresh and kept nowhere; and a Core-table form of a shape already seen through the
    ORM is still refused."""
    ids = list(lists.values())
    plain = select(Shortlist.id).where(Shortlist.id.in_(bindparam("ids", expanding=True)))
    nested = select(Shortlist.id).where(Shortlist.id.in_(bindparam("ids", expanding=True)), Shortlist.id.in_(
        select(ShortlistEntry.shortlist_id).where(ShortlistEntry.shortlist_id.in_(bindparam("ids", expanding=True)))))
    derived = tenancy.built_once(select(Shortlist.id).where(Shortlist.id.in_(bindparam("ids", expanding=True)))).limit(5)
    for statement in (plain, tenancy.built_once(plain), nested, tenancy.built_once(nested), derived):
        for tenant in (A, B, A):
            async with make_sessionmaker(engine)() as session, session.begin():
                tenancy.bind_tenant(session, tenant)
                assert set((await session.execute(statement, {"ids": ids})).scalars()) == {lists[tenant]}
        async with make_sessionmaker(engine)() as session, session.begin():
            with pytest.raises(TenantNotBound):
                await session.execute(statement, {"ids": ids})
    kept = len(tenancy._RESTRICTED)
    for _ in range(3):
        async with make_sessionmaker(engine)() as session, session.begin():
            tenancy.bind_tenant(session, A)
            await session.execute(derived, {"ids": ids})
    assert len(tenancy._RESTRICTED) == kept
    table = Shortlist.__table__
    core = select(table.c.id).where(table.c.id.in_(bindparam("ids", expanding=True)))
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.bind_tenant(session, A)
        with pytest.raises(TenantIsolationError):
            await session.execute(core, {"ids": list(lists.values())})


async def test_a_bound_session_changes_only_its_tenants_rows(engine, lists):
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.bind_tenant(session, A)
        changed = await session.execute(update(Shortlist).where(Shortlist.id.in_(lists.values())).values(description="A was here"))
        assert changed.rowcount == 1
        removed = await session.execute(delete(ShortlistEntry).where(ShortlistEntry.shortlist_id == lists[B]))
        assert removed.rowcount == 0
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.across_tenants(session, "test checks both tenants' rows")
        descriptions = dict((await session.execute(select(Shortlist.id, Shortlist.description).where(Shortlist.id.in_(lists.values())))).all())
        assert descriptions == {lists[A]: "A was here", lists[B]: None}
        assert (await session.execute(select(func.count()).select_from(ShortlistEntry).where(ShortlistEntry.shortlist_id == lists[B]))).scalar() == 1


async def test_a_new_row_takes_the_bound_tenant_and_cannot_take_another(engine):
    async with make_sessionmaker(engine)() as session, session.begin():
        tenancy.bind_tenant(session, A)
        mine = Shortlist(name=new_name())
        session.add(mine)
        assert mine.tenant_id == A
        with pytest.raises(TenantIsolationError):
            session.add(Shortlist(name=new_name(), tenant_id=B))
        await session.flush()
        mine.tenant_id = B
        with pytest.raises(TenantIsolationError):
            await session.flush()
        await session.rollback()


async def test_a_session_serves_one_tenant(engine):
    async with make_sessionmaker(engine)() as session:
        tenancy.bind_tenant(session, A)
        with pytest.raises(TenantIsolationError):
            tenancy.bind_tenant(session, B)


async def test_the_opt_out_is_explicit_and_still_names_each_rows_tenant(engine, lists):
    async with make_sessionmaker(engine)() as session, session.begin():
        with pytest.raises(ValueError):
            tenancy.across_tenants(session, " ")
        tenancy.across_tenants(session, "housekeeping over every tenant")
        ids = set((await session.execute(select(Shortlist.id).where(Shortlist.id.in_(lists.values())))).scalars())
        assert ids == set(lists.values())
        with pytest.raises(TenantIsolationError):
            session.add(Shortlist(name=new_name()))


async def test_the_raw_read_path_is_restricted_to_the_bound_tenant(engine, lists):
    reads = Reads(engine)
    assert BY_ID.tenant_scoped and ALL_NAMES.tenant_scoped
    assert not creators._BY_ID.tenant_scoped  # the shared catalogue is not restricted
    mine = reads.for_tenant(A)
    assert [r.id for r in await mine.fetch(BY_ID, shortlist_id=lists[A])] == [lists[A]]
    assert await mine.fetch(BY_ID, shortlist_id=lists[B]) == []
    # A caller cannot pass the tenant itself: the bound one wins.
    assert await mine.fetch(BY_ID, shortlist_id=lists[B], **{tenancy.TENANT_PARAM: B}) == []
    assert await reads.for_tenant(B).fetch(BY_ID, shortlist_id=lists[B])


async def test_the_raw_read_path_fails_closed(engine, lists):
    reads = Reads(engine)
    with pytest.raises(TenantNotBound):
        await reads.fetch(BY_ID, shortlist_id=lists[A])
    with pytest.raises(TenantIsolationError):
        await reads.for_tenant(tenancy.AcrossTenants("no")).fetch(ALL_NAMES)
    # The ReadSession's other methods go through the ORM filter.
    with pytest.raises(TenantNotBound):
        await reads.scalars(select(Shortlist))
    assert [s.id for s in await reads.for_tenant(A).scalars(select(Shortlist).where(Shortlist.id.in_(lists.values())))] == [lists[A]]


async def test_statements_the_raw_path_cannot_restrict_are_refused_where_they_are_built():
    inner = select(Shortlist.id).scalar_subquery()
    with pytest.raises(TenantIsolationError):
        ReadStatement(select(Creator.id).where(Creator.id == inner))
    with pytest.raises(TenantIsolationError):
        ReadStatement(select(Creator.id, ShortlistEntry.note).outerjoin(ShortlistEntry, ShortlistEntry.creator_id == Creator.id))
    with pytest.raises(TenantIsolationError):
        ReadStatement(text("select id from discovery.shortlists").columns())
    # An inner join is restricted on the tenant-owned side only.
    joined = ReadStatement(select(Creator.id, ShortlistEntry.note).join(ShortlistEntry, ShortlistEntry.creator_id == Creator.id))
    assert joined.tenant_scoped


async def test_a_shared_model_cannot_reach_tenant_owned_rows_through_a_relationship():
    """A joined eager load from a shared table would bring private rows in a statement that names
    only the shared table: such a mapping is refused when the mappers are configured."""
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import Mapped, mapped_column, relationship

    from shared.db import make_base

    Base = make_base("tenancy_mapping_test")  # a registry of its own: the failure stays in it

    class Owned(TenantOwned, Base):
        __tablename__ = "owned"
        id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
        shared_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shared.id"))

    class Shared(Base):
        __tablename__ = "shared"
        id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
        owned: Mapped[list[Owned]] = relationship()

    with pytest.raises(TenantIsolationError):
        Base.registry.configure()
