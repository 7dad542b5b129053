"""Fixtures of the tests in tests/shared: a discovery engine of the test's own."""

import uuid

import pytest
import pytest_asyncio

from shared.db import make_engine


@pytest.fixture
def application_name() -> str:
    # The engine's own, so pg_stat_activity shows exactly its connections.
    return f"test-engine-{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture
async def engine(platform, application_name):
    """Discovery's engine with a pool of two: small enough that every test touches all of it."""
    url = platform.service_env("discovery")["DATABASE_URL"]
    engine = make_engine(url, pool_size=1, application_name=application_name)
    yield engine
    await engine.dispose()
