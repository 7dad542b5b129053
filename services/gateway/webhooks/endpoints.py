"""`/v1/webhook-sources`: a tenant registers, inspects, rotates and removes the partners whose
webhooks the gateway receives for it. Every route needs `webhooks:manage`, and every query goes
through `Sources`, which only sees the caller's tenant."""

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy import event

from services.gateway.webhooks import service
from services.gateway.webhooks.cache import app_source_cache
from services.gateway.webhooks.repository import Sources
from services.gateway.webhooks.schemas import (
    SecretRotation,
    WebhookSourceCreate,
    WebhookSourcePage,
    WebhookSourceRead,
    WebhookSourceUpdate,
    WebhookSourceWithSecret,
)
from services.gateway.webhooks.vault import Vault, app_vault
from shared.db import Session
from shared.identity import Principal, requires
from shared.errors import NotFound
from shared.openapi import error_responses
from shared.pagination import Page, next_cursor
from shared.tenancy import declare_tenant_private

router = APIRouter(prefix="/v1/webhook-sources", tags=["webhook sources"], dependencies=[requires("webhooks:manage")])


async def _sources(request: Request, session: Session, principal: Principal) -> Sources:
    if request.method != "GET":
        # The receivers' cached sources (cache.py) are dropped once this change has committed:
        # from then on every delivery to this process sees it. Before the commit would be too
        # early: a delivery in between would cache the state being replaced.
        cache = app_source_cache(request)
        event.listen(session.sync_session, "after_commit", lambda _session: cache.forget_all(), once=True)
    return Sources(session, principal.tenant_id)


OwnSources = Annotated[Sources, Depends(_sources)]
SecretVault = Annotated[Vault, Depends(app_vault)]


@router.post("", status_code=201, response_model=WebhookSourceWithSecret)
async def create_source(body: Annotated[WebhookSourceCreate, Body()], sources: OwnSources, vault: SecretVault):
    """Register a Shopify store (its shop domain and the app's client secret) or a generic partner
    (the gateway generates the secret and returns it in this response only)."""
    source, secret = await service.create(sources, vault, body)
    return service.with_secret(source, secret)


@router.get("", response_model=WebhookSourcePage)
async def list_sources(sources: OwnSources, page: Page):
    """Your webhook sources, oldest first, one cursor page at a time. Secrets are never shown."""
    rows = await sources.page(page)
    return WebhookSourcePage(
        items=[service.to_read(row) for row in rows[: page.limit]], next_cursor=next_cursor(rows, page.limit)
    )


@router.get("/{source_id}", response_model=WebhookSourceRead)
async def get_source(source_id: uuid.UUID, sources: OwnSources):
    """One of your webhook sources."""
    source = await sources.get(source_id)
    if source is None:
        raise NotFound(f"no webhook source {source_id}")
    return service.to_read(source)


@router.patch("/{source_id}", response_model=WebhookSourceRead, responses=error_responses(409))
async def update_source(source_id: uuid.UUID, body: WebhookSourceUpdate, sources: OwnSources, vault: SecretVault):
    """Rename a source, change a Shopify source's shop domain (409 on a generic source), or
    disable it (deliveries to a disabled source answer 404) and enable it again."""
    return service.to_read(await service.update(sources, vault, source_id, body))


@router.post("/{source_id}/rotate", response_model=WebhookSourceWithSecret, responses=error_responses(409))
async def rotate_secret(
    request: Request,
    source_id: uuid.UUID,
    sources: OwnSources,
    vault: SecretVault,
    body: Annotated[SecretRotation, Body()] = SecretRotation(),
):
    """Replace the signing secret. Shopify: send the app's new client secret. Generic: send no
    secret; a new one is generated and returned in this response only (409 when the body does
    not fit the source's kind). The previous secret is still accepted until
    `previous_secret_expires_at` (24 h by default)."""
    grace = timedelta(seconds=request.app.state.ctx.settings.gateway_webhook_secret_grace_seconds)
    source, secret = await service.rotate(sources, vault, source_id, body, grace)
    return service.with_secret(source, secret)


@router.delete("/{source_id}", status_code=204, response_class=Response)
async def delete_source(source_id: uuid.UUID, sources: OwnSources):
    """Remove a source: its deliveries answer 404 from now on."""
    await service.remove(sources, source_id)
    return Response(status_code=204)


# A tenant's webhook sources are its own (filtered by tenant in webhooks/repository.py).
declare_tenant_private(router)
