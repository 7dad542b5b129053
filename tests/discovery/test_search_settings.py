"""Discovery's connections carry its planner settings (services/discovery/main.DB_SETTINGS, ADR
0025): a custom plan for every search, exact bitmaps. Through shared.db.make_engine, the way
shared.app builds the service's engine, against the service's own database role."""

import pytest
from sqlalchemy import text

from services.discovery.main import DB_SETTINGS
from shared.db import make_engine

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_every_connection_of_the_engine_has_the_settings(service_dsn):
    url = service_dsn("discovery").replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = make_engine(url, pool_size=1, application_name="discovery-settings-test", server_settings=DB_SETTINGS)
    try:
        async with engine.connect() as conn:
            shown = {name: (await conn.execute(text(f"SHOW {name}"))).scalar() for name in DB_SETTINGS}
            application = (await conn.execute(text("SHOW application_name"))).scalar()
    finally:
        await engine.dispose()
    assert shown == {"plan_cache_mode": "force_custom_plan", "work_mem": "32MB"}
    assert application == "discovery-settings-test"
