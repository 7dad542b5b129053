"""Each service connects as its own role and can use only its own schema."""

import asyncpg
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_service_cannot_read_another_services_schema(audit_db):
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for schema discovery"):
        await audit_db.fetch("select * from discovery.creators limit 1")


async def test_a_service_cannot_write_another_services_outbox(discovery_db):
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await discovery_db.execute("delete from audit.outbox")


async def test_a_service_cannot_create_tables_in_public(discovery_db):
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await discovery_db.execute("create table public.sneaky (id int)")


async def test_services_can_use_the_vector_type(discovery_db):
    assert await discovery_db.fetchval("select '[3,4]'::vector <-> '[0,0]'::vector") == 5.0
