"""`limelight admin`: operator tasks on the running platform (tenants and their first keys).

These work straight on the gateway's schema, as the gateway's own database role, so they need
no key of their own: they are how the first key of an installation comes to exist. Everything
after that (more keys, rotation, revocation, more tenants) is also in the API, for `admin` keys
(`/v1/keys`; `/v1/tenants` for the operator workspace's).
"""

import asyncio
import uuid
from dataclasses import dataclass

import typer
from sqlalchemy import select

from runtime.config import RuntimeSettings
from runtime.postgres import Postgres
from services.gateway.identity.models import Tenant
from services.gateway.identity.service import TENANT_SCOPES, create_key, create_tenant
from shared.db import make_engine, make_sessionmaker

app = typer.Typer(help="Operator tasks on the running platform: tenants and their first API keys.", no_args_is_help=True)


@dataclass(frozen=True)
class NewTenant:
    tenant_id: uuid.UUID
    key_id: uuid.UUID
    key: str
    scopes: tuple[str, ...]


def gateway_database_url(settings: RuntimeSettings) -> str:
    postgres = Postgres(settings)
    if not settings.database_url and postgres.running_info() is None:
        raise RuntimeError("PostgreSQL is not running: start the platform with `./limelight up` first")
    return postgres.service_url(postgres.start(), "gateway")


async def new_tenant(
    database_url: str, name: str, *, operator: bool = False, plan: str = "standard", environment: str = "live"
) -> NewTenant:
    """A tenant and its first key, holding every scope (`admin` included: it manages the others)."""
    engine = make_engine(database_url, pool_size=1, application_name="limelight-admin")
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            tenant = await create_tenant(session, name, plan=plan, operator=operator)
            row, key = await create_key(
                session, tenant.id, name="first admin key", scopes=TENANT_SCOPES, environment=environment
            )
            return NewTenant(tenant.id, row.id, key, tuple(row.scopes))
    finally:
        await engine.dispose()


async def list_tenants(database_url: str) -> list[Tenant]:
    """Every tenant, oldest first."""
    engine = make_engine(database_url, pool_size=1, application_name="limelight-admin")
    try:
        async with make_sessionmaker(engine)() as session:
            return list((await session.execute(select(Tenant).order_by(Tenant.created_at, Tenant.id))).scalars())
    finally:
        await engine.dispose()


def _database_url() -> str:
    try:
        return gateway_database_url(RuntimeSettings())
    except RuntimeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


@app.command("create-tenant")
def create_tenant_command(
    name: str = typer.Argument(help="The workspace's name: a brand, or an agency's client."),
    operator: bool = typer.Option(
        False, "--operator", help="The installation's operator workspace: its admin keys also manage tenants."
    ),
    plan: str = typer.Option("standard", help="Rate-limit plan of the tenant's keys."),
    test: bool = typer.Option(False, "--test", help="Make the first key an ll_test_ key."),
) -> None:
    """Create a tenant and print its id and its first API key (shown once, never again)."""
    if not name.strip() or len(name) > 200:
        raise typer.BadParameter("NAME must be 1 to 200 characters")
    made = asyncio.run(new_tenant(_database_url(), name.strip(), operator=operator, plan=plan, environment="test" if test else "live"))
    typer.echo(f"tenant id:  {made.tenant_id}")
    typer.echo(f"key id:     {made.key_id}")
    typer.echo(f"scopes:     {' '.join(made.scopes)}")
    typer.echo(f"API key:    {made.key}")
    typer.echo("Keep the key now: it is stored only as a hash and cannot be shown again.")


@app.command("list-tenants")
def list_tenants_command() -> None:
    """List every tenant: id, plan, flags and name (keys are listed through the API, GET /v1/keys)."""
    for tenant in asyncio.run(list_tenants(_database_url())):
        flags = ",".join(flag for flag, on in (("operator", tenant.operator), ("disabled", tenant.disabled_at)) if on)
        typer.echo(f"{tenant.id}  {tenant.plan:<12} {flags or '-':<18} {tenant.name}")
