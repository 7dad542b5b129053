"""Fixtures of the ledger tests: attribution's engine (its own role), and units of work bound to a
tenant, as the order path's handlers will open them (orders are not consumed yet, so the tests
call the ledger's service functions directly and read through the gateway)."""

import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import tenancy
from shared.db import make_engine, make_sessionmaker


@pytest_asyncio.fixture(scope="session")
async def attribution_engine(platform):
    engine = make_engine(platform.service_env("attribution")["DATABASE_URL"], pool_size=2)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def sessions(attribution_engine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(attribution_engine)


@contextlib.asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
    """One transaction for `tenant_id`, committed when the block ends, rolled back if it raises."""
    async with sessions() as session, session.begin():
        tenancy.bind_tenant(session, tenant_id)
        yield session
