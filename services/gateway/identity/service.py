"""Creating tenants and keys: the operations the admin CLI and the admin API share."""

import uuid
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.identity import keys
from services.gateway.identity.models import ApiKey, Tenant
from shared.errors import Invalid
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


async def revoke_key(session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now(), updated_at=func.now())
    )
    return result.rowcount > 0
