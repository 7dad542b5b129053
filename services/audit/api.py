"""The whole audit URL map."""

from fastapi import APIRouter

from services.audit.audit.endpoints import router as audits
from services.audit.brandsafety.endpoints import router as brandsafety
from services.audit.disclosure.endpoints import router as disclosure
from services.audit.pods.endpoints import router as pods
from services.audit.projection.endpoints import router as creators
from services.audit.report.endpoints import router as reports
from services.audit.samples.endpoints import router as samples
from shared.tenancy import mark_tenant_private

router = APIRouter()
router.include_router(audits, prefix="/audits", tags=["audits"])
router.include_router(reports, prefix="/audits", tags=["audits"])
router.include_router(creators, prefix="/creators", tags=["creators"])
router.include_router(pods, prefix="/pods", tags=["pods"])
router.include_router(samples, tags=["inputs"])
router.include_router(disclosure, prefix="/disclosure", tags=["disclosure"])
# Tenant-private: your keyword lists, and the check of a creator that applies them.
router.include_router(mark_tenant_private(brandsafety), tags=["brand safety"])
