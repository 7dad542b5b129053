"""Tenants and keys: the operations the admin CLI and the admin API share.

Every change to a key or a tenant stamps its `updated_at`: that is what each gateway replica's
`KeyStore` polls for to drop it from its cache, so a revocation, a rotation's end or a disabled
tenant reaches every replica within seconds (docs/decisions/0018).
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.identity import keys, repository
from services.gateway.identity.models import ApiKey, Tenant
from shared.errors import Conflict, Invalid, NotFound
from shared.identity import SCOPES

# A new tenant's first key: everything a workspace can do (admin = manage its own keys).
TENANT_SCOPES = tuple(SCOPES)


def check_scopes(scopes: list[str] | tuple[str, ...], field: str = "scopes") -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise Invalid(field, f"unknown scopes {unknown}; known: {sorted(SCOPES)}")
    if not scopes:
        raise Invalid(field, "at least one scope is required")
    return sorted(set(scopes))


async def create_tenant(
    session: AsyncSession, name: str, *, plan: str = "standard", operator: bool = False
) -> Tenant:
    tenant = Tenant(id=uuid.uuid4(), name=name, plan=plan, operator=operator)
    session.add(tenant)
    await session.flush()
    return tenant


async def create_key(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    name: str,
    scopes: list[str] | tuple[str, ...],
    environment: str = "live",
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key of `tenant_id`: (its row, the key itself — shown once, never stored)."""
    secret, prefix, digest = keys.new_key(environment)
    row = ApiKey(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        name=name,
        prefix=prefix,
        secret_hash=digest,
        scopes=check_scopes(scopes),
        environment=environment,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row, secret


async def _now(session: AsyncSession) -> datetime:
    """The database's clock: the one every replica compares expiry with."""
    return (await session.execute(select(func.now()))).scalar_one()


async def refuse_past_expiry(session: AsyncSession, expires_at: datetime | None) -> None:
    """For the API: a key that would be born expired is a mistake. 409, not 422: the schema
    allows any instant, it is the clock that says no; the detail names the field all the same."""
    if expires_at is not None and expires_at <= await _now(session):
        raise Conflict([{"field": "body.expires_at", "reason": "must be in the future"}])


async def revoke_key(session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """Revoke the tenant's key; False when it has no such key. Revoking twice changes nothing."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now(), updated_at=func.now())
    )
    if result.rowcount:
        return True
    return await repository.get_key(session, tenant_id, key_id) is not None


async def rotate_key(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    key_id: uuid.UUID,
    *,
    grace: timedelta,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, ApiKey, str]:
    """Replace the tenant's key by a new one with its name, scopes and environment: (the old row,
    the new row, the new key). The old key keeps working for `grace` (its expiry is brought
    forward, never pushed back) and points to its successor."""
    old = await repository.lock_key(session, tenant_id, key_id)
    if old is None:
        raise NotFound(f"API key {key_id} does not exist")
    now = await _now(session)
    if old.revoked_at is not None:
        raise Conflict(f"API key {key_id} is revoked; create a new key instead")
    if old.rotated_to is not None:
        raise Conflict(f"API key {key_id} was already rotated, to {old.rotated_to}")
    if old.expires_at is not None and old.expires_at <= now:
        raise Conflict(f"API key {key_id} has expired; create a new key instead")
    await refuse_past_expiry(session, expires_at)
    new, secret = await create_key(
        session, tenant_id, name=old.name, scopes=old.scopes, environment=old.environment, expires_at=expires_at
    )
    ends = now + grace
    old.expires_at = ends if old.expires_at is None else min(old.expires_at, ends)
    old.rotated_to = new.id
    old.updated_at = now
    await session.flush()
    return old, new, secret


async def update_tenant(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    name: str | None = None,
    plan: str | None = None,
    disabled: bool | None = None,
) -> Tenant:
    """Rename, re-plan, disable or enable a tenant. The operator's own workspace cannot be
    disabled through the API: that would lock the installation out of it."""
    tenant = await repository.lock_tenant(session, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} does not exist")
    now = await _now(session)
    if name is not None:
        tenant.name = name
    if plan is not None:
        tenant.plan = plan
    if disabled is True and tenant.operator:
        raise Conflict("the operator workspace cannot be disabled through the API")
    if disabled is True and tenant.disabled_at is None:
        tenant.disabled_at = now
    elif disabled is False:
        tenant.disabled_at = None
    tenant.updated_at = now
    await session.flush()
    return tenant
