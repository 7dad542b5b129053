"""`limelight admin`: the tenants it makes are the ones it lists, and their first key works."""

import asyncio

import pytest
from typer.testing import CliRunner

from runtime import admin
from runtime.admin import list_tenants, new_tenant
from tests.conftest import TEST_STATE
from tests.gateway.identity.helpers import probe

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_tenant_made_by_the_cli_is_listed_and_its_first_key_works(platform, gateway):
    url = platform.service_env("gateway")["DATABASE_URL"]
    made = await new_tenant(url, "cli brand", plan="growth")
    listed = {t.id: t for t in await list_tenants(url)}
    assert listed[made.tenant_id].name == "cli brand" and listed[made.tenant_id].plan == "growth"
    assert set(made.scopes) >= {"admin", "discovery:read"}
    assert (await probe(gateway, made.key)).status_code == 200


async def test_the_cli_creates_and_lists_tenants_on_the_running_platform(platform, gateway):
    env = {"LIMELIGHT_STATE_DIR": str(TEST_STATE)}

    def run(*args: str):
        return CliRunner().invoke(admin.app, list(args), env=env)

    # In a thread: the commands run their own event loop.
    created = await asyncio.to_thread(run, "create-tenant", "from the command line", "--plan", "growth")
    assert created.exit_code == 0, created.output
    fields = dict(line.split(":", 1) for line in created.output.splitlines() if line.count(":") and not line.startswith("Keep"))
    tenant_id, key = fields["tenant id"].strip(), fields["API key"].strip()
    assert (await probe(gateway, key)).status_code == 200

    listed = await asyncio.to_thread(run, "list-tenants")
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if line.startswith(tenant_id))
    assert "growth" in line and line.endswith("from the command line")
    assert key not in listed.output
