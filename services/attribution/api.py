"""The whole attribution URL map: campaigns and their creators, the ledger and payouts, orders,
commission rules, codes, links, reports, the attribution models' comparison, and the public click redirect."""

from fastapi import APIRouter

from services.attribution.campaign.endpoints import router as campaigns
from services.attribution.clicks.endpoints import router as clicks
from services.attribution.codes.endpoints import router as codes
from services.attribution.comparison.endpoints import router as comparison
from services.attribution.enrolment.endpoints import router as enrolments
from services.attribution.ledger.endpoints import ledger, payouts
from services.attribution.orders.endpoints import router as orders
from services.attribution.reports.endpoints import router as reports
from services.attribution.rules.endpoints import router as rules
from services.attribution.links.endpoints import router as links
from shared.tenancy import declare_tenant_private, mark_tenant_private

router = APIRouter()
# mark_tenant_private: every route of a package that owns tenant-private tables is marked in
# OpenAPI (x-tenant-private), which the cross-tenant test matrix walks.
router.include_router(mark_tenant_private(campaigns), prefix="/campaigns", tags=["campaigns"])
router.include_router(mark_tenant_private(enrolments), prefix="/campaigns", tags=["campaigns"])
router.include_router(mark_tenant_private(ledger), prefix="/ledger", tags=["ledger"])
router.include_router(mark_tenant_private(payouts), prefix="/payouts", tags=["ledger"])
router.include_router(mark_tenant_private(orders), prefix="/orders", tags=["orders"])
router.include_router(mark_tenant_private(rules), prefix="/campaigns", tags=["commission rules"])
router.include_router(mark_tenant_private(codes), prefix="/codes", tags=["codes"])
router.include_router(mark_tenant_private(links), prefix="/links", tags=["links"])
# Reports read other packages' tenant-owned tables: declared private by hand.
router.include_router(declare_tenant_private(reports), tags=["reports"])
router.include_router(declare_tenant_private(comparison), tags=["reports"])
# Public: the click redirect the gateway forwards without an identity (no tenant, no scope).
router.include_router(clicks)
