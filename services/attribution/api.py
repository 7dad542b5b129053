"""The whole attribution URL map. Campaigns first; links, codes, webhooks and reports arrive
with the attribution issue."""

from fastapi import APIRouter

from services.attribution.campaign.endpoints import router as campaigns
from services.attribution.clicks.endpoints import router as clicks
from services.attribution.codes.endpoints import router as codes
from services.attribution.enrolment.endpoints import router as enrolments
from services.attribution.links.endpoints import router as links
from shared.tenancy import mark_tenant_private

router = APIRouter()
# mark_tenant_private: every route of a package that owns tenant-private tables is marked in
# OpenAPI (x-tenant-private), which the cross-tenant test matrix walks.
router.include_router(mark_tenant_private(campaigns), prefix="/campaigns", tags=["campaigns"])
router.include_router(mark_tenant_private(enrolments), prefix="/campaigns", tags=["campaigns"])
router.include_router(mark_tenant_private(codes), prefix="/codes", tags=["codes"])
router.include_router(mark_tenant_private(links), prefix="/links", tags=["links"])
# Public: the click redirect the gateway forwards without an identity (no tenant, no scope).
router.include_router(clicks)
