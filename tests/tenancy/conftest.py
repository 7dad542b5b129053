"""Fixtures of the tenant isolation tests: a second tenant's gateway client, discovery's engine,
and a creator of the shared catalogue to put on shortlists."""

import uuid

import pytest
import pytest_asyncio

from shared.db import make_engine
from tests.conftest import unique_handle


@pytest.fixture(scope="session")
def other(other_gateway):
    """The second tenant's client (tests/conftest.py `other_gateway`), by its short name here."""
    return other_gateway


@pytest_asyncio.fixture
async def engine(platform):
    """Discovery's engine, as the service's own role."""
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"], pool_size=1)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def creator(gateway) -> dict:
    """A creator of the shared catalogue (made by the suite's tenant; every tenant sees it)."""
    response = await gateway.post("/v1/discovery/creators", json={"platform": "tiktok", "handle": unique_handle("short")})
    assert response.status_code == 201, response.text
    return response.json()


def new_name(prefix: str = "list") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
