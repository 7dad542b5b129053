"""Reads of keys and tenants. Every key query takes the caller's tenant as a required argument
and filters by it here, once, so an endpoint cannot leave it out: another tenant's key is simply
not there (a 404, never a 403). Listings are rare admin calls: plain statements, not the
precompiled read path of the hot endpoints."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.identity.models import ApiKey, Tenant
from shared.db import Reads
from shared.pagination import PageParams, Sorts

SORT = "created_at"
KEY_SORTS = Sorts(ApiKey.id, created_at=ApiKey.created_at)

TENANT_SORTS = Sorts(Tenant.id, created_at=Tenant.created_at)


async def list_keys(session: AsyncSession | Reads, tenant_id: uuid.UUID, page: PageParams) -> list:
    """Up to page.limit + 1 of the tenant's keys, oldest first."""
    query = KEY_SORTS.apply(select(ApiKey).where(ApiKey.tenant_id == tenant_id), page, SORT)
    return list((await session.execute(query)).scalars())


async def get_key(session: AsyncSession | Reads, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id))


async def lock_key(session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    """The tenant's key, locked until the transaction ends (two rotations cannot both win)."""
    query = select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_tenants(session: AsyncSession | Reads, page: PageParams) -> list:
    """Up to page.limit + 1 tenants, oldest first (operators only: every tenant)."""
    return list((await session.execute(TENANT_SORTS.apply(select(Tenant), page, SORT))).scalars())


async def get_tenant(session: AsyncSession | Reads, tenant_id: uuid.UUID) -> Tenant | None:
    return await session.scalar(select(Tenant).where(Tenant.id == tenant_id))


async def lock_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    query = select(Tenant).where(Tenant.id == tenant_id).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()
