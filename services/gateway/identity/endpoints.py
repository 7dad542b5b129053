"""The credential routes the gateway answers itself: a tenant's API keys (`/v1/keys`, any
`admin` key, always within the caller's own tenant) and the tenants (`/v1/tenants`, `admin`
keys of the operator workspace only). See docs/decisions/0018."""

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, status
from starlette.responses import Response

from services.gateway.identity import repository, service
from services.gateway.identity.models import ApiKey
from services.gateway.identity.schemas import (
    KeyCreate,
    KeyCreated,
    KeyRead,
    KeyRotate,
    TenantCreate,
    TenantCreated,
    TenantRead,
    TenantUpdate,
)
from shared.db import ReadSession, Session
from shared.errors import Forbidden, NotFound
from shared.identity import Identity, Principal, requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut
from shared.tenancy import declare_tenant_private

# Operation ids `gateway_<function>`, like the merged reference's `<service>_<operation>`.
router = APIRouter(generate_unique_id_function=lambda route: f"gateway_{route.name}")
keys_router = APIRouter(prefix="/v1/keys", tags=["keys"])
tenants_router = APIRouter(prefix="/v1/tenants", tags=["tenants"])

KeyPage = PageOut[KeyRead]
TenantPage = PageOut[TenantRead]


def _created(row: ApiKey, secret: str) -> KeyCreated:
    return KeyCreated.model_validate({**KeyRead.model_validate(row).model_dump(), "key": secret})


@keys_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyCreated,
    responses=error_responses(409),
    dependencies=[requires("admin")],
)
async def create_key(body: KeyCreate, principal: Principal, session: Session) -> KeyCreated:
    """Create an API key for your workspace. The key is in this response only: it is stored as a hash.
    Any scope may be granted, `admin` included (an admin key manages your workspace's keys).
    An `expires_at` already past is a 409."""
    await service.refuse_past_expiry(session, body.expires_at)
    row, secret = await service.create_key(
        session, principal.tenant_id, name=body.name, scopes=body.scopes,
        environment=body.environment, expires_at=body.expires_at,
    )
    return _created(row, secret)


@keys_router.get("", response_model=KeyPage, dependencies=[requires("admin")])
async def list_keys(principal: Principal, session: ReadSession, page: Page) -> KeyPage:
    """Your workspace's keys, oldest first, revoked and expired ones included. Never the keys themselves."""
    rows = await repository.list_keys(session, principal.tenant_id, page)
    return KeyPage(
        items=[KeyRead.model_validate(r) for r in rows[: page.limit]],
        next_cursor=repository.KEY_SORTS.next_cursor(rows, page.limit, repository.SORT),
    )


@keys_router.get("/{key_id}", response_model=KeyRead, dependencies=[requires("admin")])
async def get_key(key_id: uuid.UUID, principal: Principal, session: ReadSession) -> KeyRead:
    """One of your workspace's keys."""
    row = await repository.get_key(session, principal.tenant_id, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    return KeyRead.model_validate(row)


@keys_router.post(
    "/{key_id}/rotate",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyCreated,
    responses=error_responses(409),
    dependencies=[requires("admin")],
)
async def rotate_key(
    key_id: uuid.UUID,
    request: Request,
    principal: Principal,
    session: Session,
    body: Annotated[KeyRotate | None, Body()] = None,
) -> KeyCreated:
    """Replace a key by a new one with the same name and scopes, returned once. The old key keeps
    working for a grace period (default 24 h; `grace_seconds` shortens it, 0 ends it now)."""
    body = body or KeyRotate()
    grace = body.grace_seconds
    if grace is None:
        grace = request.app.state.ctx.settings.gateway_key_rotation_grace_seconds
    _, new, secret = await service.rotate_key(
        session, principal.tenant_id, key_id, grace=timedelta(seconds=grace), expires_at=body.expires_at
    )
    return _created(new, secret)


@keys_router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[requires("admin")])
async def revoke_key(key_id: uuid.UUID, principal: Principal, session: Session) -> Response:
    """Revoke a key: every gateway replica refuses it within seconds. Revoking it again changes nothing."""
    if not await service.revoke_key(session, principal.tenant_id, key_id):
        raise NotFound(f"API key {key_id} does not exist")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _operator(principal: Principal) -> Identity:
    """Tenants are the installation operator's business: `admin` of any other workspace is 403."""
    if not principal.operator:
        raise Forbidden("only an admin key of the operator workspace manages tenants")
    return principal


Operator = Annotated[Identity, Depends(_operator)]


@tenants_router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=TenantCreated, dependencies=[requires("admin")]
)
async def create_tenant(body: TenantCreate, _: Operator, session: Session) -> TenantCreated:
    """Create a workspace and its first API key (every scope), returned once. Operators only."""
    tenant = await service.create_tenant(session, body.name, plan=body.plan)
    row, secret = await service.create_key(session, tenant.id, name="first admin key", scopes=service.TENANT_SCOPES)
    await session.refresh(tenant)
    return TenantCreated.model_validate({**TenantRead.model_validate(tenant).model_dump(), "first_key": _created(row, secret)})


@tenants_router.get("", response_model=TenantPage, dependencies=[requires("admin")])
async def list_tenants(_: Operator, session: ReadSession, page: Page) -> TenantPage:
    """Every workspace of the installation, oldest first. Operators only."""
    rows = await repository.list_tenants(session, page)
    return TenantPage(
        items=[TenantRead.model_validate(r) for r in rows[: page.limit]],
        next_cursor=repository.TENANT_SORTS.next_cursor(rows, page.limit, repository.SORT),
    )


@tenants_router.get("/{tenant_id}", response_model=TenantRead, dependencies=[requires("admin")])
async def get_tenant(tenant_id: uuid.UUID, _: Operator, session: ReadSession) -> TenantRead:
    """One workspace. Operators only."""
    tenant = await repository.get_tenant(session, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} does not exist")
    return TenantRead.model_validate(tenant)


@tenants_router.patch(
    "/{tenant_id}", response_model=TenantRead, responses=error_responses(409), dependencies=[requires("admin")]
)
async def update_tenant(tenant_id: uuid.UUID, body: TenantUpdate, _: Operator, session: Session) -> TenantRead:
    """Rename a workspace, change its plan, or disable it (`disabled: true`: its keys and JWTs are
    refused within seconds) and enable it again. Operators only."""
    tenant = await service.update_tenant(session, tenant_id, name=body.name, plan=body.plan, disabled=body.disabled)
    return TenantRead.model_validate(tenant)


# A tenant's keys are its own (filtered by tenant in identity/repository.py); the tenants routes
# are the operator's, across tenants by design.
router.include_router(declare_tenant_private(keys_router))
router.include_router(tenants_router)
