"""Migration 0007 on a database of its own: each existing campaign's decimal budget becomes the
same amount in integer minor units (rounded half to even only where the old value had more
places than its currency), and the downgrade gives the amounts back."""

import asyncio
import uuid
from decimal import Decimal

import asyncpg
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from runtime.postgres import bootstrap_database
from shared.migrations import alembic_config

pytestmark = pytest.mark.integration

# (currency, budget as 0006 stored it, minor units after 0007, budget after the downgrade)
CASES = [
    ("EUR", "12500.5000", 1_250_050, "12500.5000"),
    ("EUR", "0.1250", 12, "0.1200"),  # 12.5 cents: half to even
    ("EUR", "0.1350", 14, "0.1400"),
    ("JPY", "1000000.0000", 1_000_000, "1000000.0000"),
    ("JPY", "1000.5000", 1_000, "1000.0000"),
    ("JPY", "1001.5000", 1_002, "1002.0000"),
    ("BHD", "1.2345", 1_234, "1.2340"),
    ("CLF", "2.5001", 25_001, "2.5001"),
    ("USD", "99999999999999.9900", 9_999_999_999_999_999, "99999999999999.9900"),
]


def _url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _admin(server, statement: str, database: str) -> None:
    conn = await asyncpg.connect(server.admin_dsn)
    try:
        quoted = await conn.fetchval("select format($1::text, $2::text)", statement, database)
        await conn.execute(quoted)
    finally:
        await conn.close()


async def _run(dsn: str, sql: str, *args):
    conn = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


@pytest.fixture
def scratch_database(platform):
    """An empty Limelight database (roles and schemas, no tables) beside the suite's, dropped after:
    the URL attribution's role reaches it by."""
    yield from scratch_database_of(platform, "attribution")


def scratch_database_of(platform, service: str):
    """`scratch_database` for any service's role (a generator for a fixture to yield from)."""
    server = platform.server
    if not server.local:
        pytest.skip("needs the bundled PostgreSQL, where the suite may create databases")
    name = f"limelight_migration_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, "create database %I", name))
    try:
        asyncio.run(bootstrap_database(_url(server.admin_dsn, name), None))
        yield _url(platform.service_env(service)["DATABASE_URL"], name)
    finally:
        asyncio.run(_admin(server, "drop database %I with (force)", name))


def test_0007_keeps_each_campaigns_budget_in_minor_units(scratch_database):
    config = alembic_config("attribution", scratch_database)
    command.upgrade(config, "0006")
    ids = {uuid.uuid4(): case for case in CASES}
    for campaign_id, (currency, budget, _, _) in ids.items():
        asyncio.run(_run(
            scratch_database,
            "insert into attribution.campaigns (id, name, brand, starts_on, ends_on, budget, currency, tenant_id) "
            "values ($1, 'spring', 'Acme', '2027-03-01', '2027-03-31', $2, $3, $4)",
            campaign_id, Decimal(budget), currency, uuid.uuid4(),
        ))

    command.upgrade(config, "0007")
    after = {r["id"]: r["budget_minor"] for r in asyncio.run(_run(scratch_database, "select id, budget_minor from attribution.campaigns"))}
    assert after == {campaign_id: case[2] for campaign_id, case in ids.items()}

    command.downgrade(config, "0006")
    back = {r["id"]: r["budget"] for r in asyncio.run(_run(scratch_database, "select id, budget from attribution.campaigns"))}
    assert back == {campaign_id: Decimal(case[3]) for campaign_id, case in ids.items()}
