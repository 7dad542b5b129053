"""Per-request cost of tenant isolation (shared.tenancy), with and without it, in one run.

On a PostgreSQL of its own (discovery's schema, 2,000 shortlists of 20 tenants), each figure is
the CPU time this process spends on one request-shaped unit of work (the database's own time is
another process's), the best of interleaved rounds:

- ORM path: open a `Session`-like transaction bound to a tenant, load one shortlist by id,
  commit; with the do_orm_execute filter, and with the filter's listener removed (no isolation).
- ORM path on the shared catalogue: the same for one creator (the filter only inspects the
  statement and finds nothing to restrict).
- Raw read path: `Reads.fetch` of a shortlist by id, restricted (the WHERE tenant_id = $n
  compiled in, the tenant filled per call) and compiled without the restriction.
- Binding: what the request dependencies add (`request_tenant` + `Reads.for_tenant`).

`python bench/tenancy.py [--rounds 5] [--iterations 2000]`. Figures depend on the machine; the
differences are the point.
"""

import argparse
import asyncio
import shutil
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session as SyncSession

from runtime.config import ROOT, RuntimeSettings
from runtime.postgres import Postgres
from services.discovery.creator.models import Creator
from services.discovery.shortlist.models import Shortlist
from shared import tenancy, tenant_statements
from shared.db import Reads, ReadStatement, make_engine, make_sessionmaker
from shared.identity import Identity, set_identity
from shared.migrations import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import record  # noqa: E402

STATE_DIR = ROOT / ".limelight" / "bench-tenancy"
TENANTS = 20
PER_TENANT = 100


def _unrestricted(query) -> ReadStatement:
    """The same ReadStatement compiled as if the table were not tenant-owned."""
    real = tenancy.restrict_statement
    tenancy.restrict_statement = lambda q: (q, False)
    try:
        return ReadStatement(query)
    finally:
        tenancy.restrict_statement = real


async def _mean_us(work: Callable[[int], Awaitable[object]], iterations: int) -> float:
    """CPU time of this process per unit of work: what the service pays, PostgreSQL's time (another
    process) excluded, and much less disturbed than wall time by other load on the machine."""
    started = time.process_time()
    for i in range(iterations):
        await work(i)
    return (time.process_time() - started) / iterations * 1e6


async def run(database_url: str, rounds: int, iterations: int) -> None:
    engine = make_engine(database_url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    tenants = [uuid.uuid4() for _ in range(TENANTS)]
    lists: list[tuple[uuid.UUID, uuid.UUID]] = []
    creator_id = uuid.uuid4()
    async with sessionmaker() as session, session.begin():
        tenancy.across_tenants(session, "bench set-up")
        session.add(Creator(id=creator_id, platform="x", handle=f"bench-{creator_id.hex[:8]}"))
        for tenant in tenants:
            for n in range(PER_TENANT):
                shortlist = Shortlist(id=uuid.uuid4(), tenant_id=tenant, name=f"list {n}")
                session.add(shortlist)
                lists.append((tenant, shortlist.id))

    async def orm_shortlist(i: int) -> None:
        tenant, shortlist_id = lists[i % len(lists)]
        async with sessionmaker() as session, session.begin():
            tenancy.bind_tenant(session, tenant)
            (await session.execute(select(Shortlist).where(Shortlist.id == shortlist_id))).scalar_one()

    async def orm_creator(i: int) -> None:
        async with sessionmaker() as session, session.begin():
            tenancy.bind_tenant(session, lists[i % len(lists)][0])
            (await session.execute(select(Creator).where(Creator.id == creator_id))).scalar_one()

    reads = Reads(engine)
    scoped = ReadStatement(select(Shortlist).where(Shortlist.id == bindparam("shortlist_id")))
    unscoped = _unrestricted(select(Shortlist).where(Shortlist.id == bindparam("shortlist_id")))

    async def raw_scoped(i: int) -> None:
        tenant, shortlist_id = lists[i % len(lists)]
        assert len(await reads.for_tenant(tenant).fetch(scoped, shortlist_id=shortlist_id)) == 1

    async def raw_unscoped(i: int) -> None:
        assert len(await reads.fetch(unscoped, shortlist_id=lists[i % len(lists)][1])) == 1

    scope: dict = {"type": "http", "headers": []}
    set_identity(scope, Identity(tenant_id=tenants[0], subject="bench", scopes=frozenset()))

    class _Request:  # what request_tenant reads: the ASGI scope and the headers
        headers: dict = {}

    request = _Request()
    request.scope = scope

    async def binding(_: int) -> None:
        reads.for_tenant(tenancy.request_tenant(request))

    async def nothing(_: int) -> None:
        return None

    by_id = select(Shortlist).where(Shortlist.id == lists[0][1])
    creator_by_id = select(Creator).where(Creator.id == creator_id)

    async def inspect_shortlist(_: int) -> None:
        tenant_statements.analyse(by_id)

    async def inspect_creator(_: int) -> None:
        tenant_statements.analyse(creator_by_id)

    def filter_on(on: bool) -> None:
        registered = event.contains(SyncSession, "do_orm_execute", tenancy._filter_by_tenant)
        if on and not registered:
            event.listen(SyncSession, "do_orm_execute", tenancy._filter_by_tenant)
        elif not on and registered:
            event.remove(SyncSession, "do_orm_execute", tenancy._filter_by_tenant)

    cases: dict[str, list[float]] = {}

    async def measure(label: str, work, on: bool | None = None) -> None:
        if on is not None:
            filter_on(on)
        cases.setdefault(label, []).append(await _mean_us(work, iterations))

    for work in (orm_shortlist, orm_creator, raw_scoped, raw_unscoped):  # warm-up
        await _mean_us(work, 200)
    for _ in range(rounds):
        await measure("orm shortlist by id, filtered", orm_shortlist, True)
        await measure("orm shortlist by id, no filter", orm_shortlist, False)
        await measure("orm creator by id, filter inspects", orm_creator, True)
        await measure("orm creator by id, no filter", orm_creator, False)
        await measure("raw fetch shortlist, restricted", raw_scoped)
        await measure("raw fetch shortlist, unrestricted", raw_unscoped)
        await measure("binding: request_tenant + for_tenant", binding)
        await measure("binding baseline: empty call", nothing)
        await measure("statement inspection alone, shortlist", inspect_shortlist)
        await measure("statement inspection alone, creator", inspect_creator)
    filter_on(True)
    await engine.dispose()

    # The best round: other load on the machine only ever adds time.
    print(f"tenant isolation, {TENANTS * PER_TENANT} shortlists of {TENANTS} tenants; "
          f"best of {rounds} rounds x {iterations} iterations (us of CPU per unit of work)")
    figures = {label: min(values) for label, values in cases.items()}
    for label, value in figures.items():
        print(f"  {label:<40} {value:8.1f} us")
    pairs = [
        ("ORM path, tenant-owned", "orm shortlist by id, filtered", "orm shortlist by id, no filter"),
        ("ORM path, shared catalogue", "orm creator by id, filter inspects", "orm creator by id, no filter"),
        ("raw read path", "raw fetch shortlist, restricted", "raw fetch shortlist, unrestricted"),
        ("request binding", "binding: request_tenant + for_tenant", "binding baseline: empty call"),
    ]
    for name, with_it, without in pairs:
        print(f"  cost on the {name:<28} {figures[with_it] - figures[without]:+7.1f} us "
              f"({figures[with_it] / figures[without]:.2f}x)")
        record(f"{name}, with isolation", figures[with_it], "µs", baseline=without, baseline_value=figures[without],
               note=f"CPU per unit of work, best of {rounds} x {iterations}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args(argv)
    settings = RuntimeSettings(state_dir=STATE_DIR, database_url=None)
    postgres = Postgres(settings)
    postgres.stop()
    shutil.rmtree(STATE_DIR / "postgres", ignore_errors=True)
    try:
        server = postgres.start()
        postgres.bootstrap(server)
        database_url = postgres.service_url(server, "discovery")
        upgrade("discovery", database_url)
        asyncio.run(run(database_url, args.rounds, args.iterations))
        return 0
    finally:
        postgres.stop()


if __name__ == "__main__":
    raise SystemExit(main())
