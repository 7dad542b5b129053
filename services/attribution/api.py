"""The whole attribution URL map. Campaigns first; links, codes, webhooks and reports arrive
with the attribution issue."""

from fastapi import APIRouter

from services.attribution.campaign.endpoints import router as campaigns
from services.attribution.orders.endpoints import router as orders
from shared.tenancy import mark_tenant_private

router = APIRouter()
# mark_tenant_private: every route of a package that owns tenant-private tables is marked in
# OpenAPI (x-tenant-private), which the cross-tenant test matrix walks.
router.include_router(mark_tenant_private(campaigns), prefix="/campaigns", tags=["campaigns"])
router.include_router(mark_tenant_private(orders), prefix="/orders", tags=["orders"])
