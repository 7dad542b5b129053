"""The whole audit URL map: audits and their reports, creators, pods, inputs, disclosure rules,
brand-safety lists, share links and appeals, receipts of data-subject requests, and the public shared
view."""

from fastapi import APIRouter

from services.audit.appeals.endpoints import router as appeals
from services.audit.audit.endpoints import router as audits
from services.audit.brandsafety.endpoints import router as brandsafety
from services.audit.disclosure.endpoints import router as disclosure
from services.audit.pods.endpoints import router as pods
from services.audit.privacy.endpoints import router as privacy
from services.audit.projection.endpoints import router as creators
from services.audit.public.endpoints import router as shared_views
from services.audit.report.endpoints import router as reports
from services.audit.samples.endpoints import router as samples
from services.audit.sharing.endpoints import router as share_links
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
# mark_tenant_private: every route of a package that owns tenant-private tables is marked in
# OpenAPI (x-tenant-private), which the cross-tenant test matrix walks.
router.include_router(mark_tenant_private(share_links), tags=["share links"])
router.include_router(mark_tenant_private(appeals), prefix="/appeals", tags=["appeals"])
# Receipts of data-subject requests: the asking workspace's own.
router.include_router(mark_tenant_private(privacy), prefix="/privacy", tags=["privacy"])
# Public: the creator's shared view, which the gateway forwards without an identity (/shared/...).
router.include_router(shared_views, tags=["shared audits"])
