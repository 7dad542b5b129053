"""The whole gateway URL map: the merged reference, the public routes, the credential and webhook
source routes, then the proxy for /v1/<service>/..."""

from fastapi import APIRouter

from services.gateway.identity.endpoints import router as credentials
from services.gateway.privacy.endpoints import router as privacy
from services.gateway.proxy.endpoints import router as proxy
from services.gateway.public import router as public
from services.gateway.reference.endpoints import router as reference
from services.gateway.webhooks.endpoints import router as webhook_sources
from services.gateway.webhooks.ingress import router as webhooks

router = APIRouter()
router.include_router(reference)
router.include_router(public)
router.include_router(credentials)  # before the proxy, whose /v1/{upstream}/... would match
router.include_router(webhook_sources)  # before the proxy, whose /v1/{upstream}/... would match
router.include_router(webhooks)
router.include_router(privacy)  # before the proxy, whose /v1/{upstream}/... would match
router.include_router(proxy)
