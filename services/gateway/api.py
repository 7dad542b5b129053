"""The whole gateway URL map: the merged reference, the public routes, then the proxy for /v1/<service>/..."""

from fastapi import APIRouter

from services.gateway.proxy.endpoints import router as proxy
from services.gateway.public import router as public
from services.gateway.reference.endpoints import router as reference

router = APIRouter()
router.include_router(reference)
router.include_router(public)
router.include_router(proxy)
