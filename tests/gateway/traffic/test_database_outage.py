"""The shared buckets' database away: the gateway keeps answering and each replica enforces the
plan on its own (docs/decisions/0014); idle buckets are pruned."""

from datetime import timedelta

import asyncpg
import pytest

from services.gateway.traffic.lifespan import prune_idle_buckets
from services.gateway.traffic.limits import PlanLimit
from shared.db import make_engine, make_sessionmaker
from tests.gateway.fakes import FakeUpstream
from tests.gateway.traffic.helpers import ROOMY, closed_port, replica, settings_for, tenant_on_plan

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

PATH = "/v1/discovery/creators"


async def test_without_its_database_the_limiter_falls_back_to_the_replica_and_never_fails(platform, capsys):
    tenant = await tenant_on_plan(platform, "tiny")
    plan = PlanLimit(rate=0.1, burst=3)
    async with FakeUpstream() as upstream:
        settings = settings_for(platform, upstream.url, gateway_rate_limits={"standard": ROOMY, "tiny": plan})
        async with replica(settings, key=tenant.key) as client:
            limiter = client.app.state.traffic.keys
            # Authentication keeps its own connection; only the buckets' database is unreachable.
            limiter.engine = make_engine(f"postgresql+asyncpg://nobody:nothing@127.0.0.1:{await closed_port()}/none")
            try:
                statuses = [(await client.get(PATH)).status_code for _ in range(5)]
            finally:
                await limiter.engine.dispose()
    assert statuses == [200, 200, 200, 429, 429]
    logged = capsys.readouterr().out
    assert logged.count("rate limits: database unreachable") == 1
    assert '"level": "ERROR"' not in logged


async def test_buckets_unused_for_the_horizon_are_pruned(platform, service_dsn):
    connection = await asyncpg.connect(service_dsn("gateway"))
    engine = make_engine(platform.service_env("gateway")["DATABASE_URL"], pool_size=1)
    try:
        await connection.execute(
            "insert into gateway.rate_buckets (key, tokens, granted, refilled_at) values "
            "('key:test-idle', 1, 1, now() - interval '2 hours'), ('key:test-busy', 1, 1, now()) "
            "on conflict (key) do update set refilled_at = excluded.refilled_at"
        )
        await prune_idle_buckets(make_sessionmaker(engine), timedelta(hours=1))
        left = {r["key"] for r in await connection.fetch("select key from gateway.rate_buckets where key like 'key:test-%'")}
    finally:
        await connection.execute("delete from gateway.rate_buckets where key like 'key:test-%'")
        await connection.close()
        await engine.dispose()
    assert left == {"key:test-busy"}
