import asyncpg
import pytest_asyncio


@pytest_asyncio.fixture(scope="session")
async def attribution_db(service_dsn):
    """Attribution's database as its own role: for what no route does yet (the ledger marking
    an enrolment as having money recorded against it)."""
    pool = await asyncpg.create_pool(service_dsn("attribution"), min_size=1, max_size=2)
    yield pool
    await pool.close()
