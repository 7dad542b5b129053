"""The whole attribution URL map: campaigns and their creators, the ledger and payouts, orders,
commission rules, codes, links, activations and rate cards, reports, the attribution models'
comparison, holdout tests, fraud reviews, and the public click redirect."""

from fastapi import APIRouter

from services.attribution.activations.endpoints import router as activations
from services.attribution.campaign.endpoints import router as campaigns
from services.attribution.clicks.endpoints import router as clicks
from services.attribution.codes.endpoints import router as codes
from services.attribution.comparison.endpoints import router as comparison
from services.attribution.crediting.endpoints import router as recompute
from services.attribution.enrolment.endpoints import router as enrolments
from services.attribution.fx.endpoints import router as fx_rates
from services.attribution.fraud.endpoints import creators as creator_keys
from services.attribution.fraud.endpoints import fraud
from services.attribution.incrementality.endpoints import audience as audience_holdouts
from services.attribution.incrementality.endpoints import router as holdout_tests
from services.attribution.ledger.endpoints import ledger, payouts
from services.attribution.privacy.endpoints import router as privacy_receipts
from services.attribution.links.endpoints import router as links
from services.attribution.media.endpoints import router as media
from services.attribution.orders.endpoints import router as orders
from services.attribution.ratecards.endpoints import router as rate_cards
from services.attribution.reports.endpoints import router as reports
from services.attribution.rules.endpoints import router as rules
from shared.tenancy import declare_tenant_private, mark_tenant_private

router = APIRouter()
# mark_tenant_private: every route of a package that owns tenant-private tables is marked in
# OpenAPI (x-tenant-private), which the cross-tenant test matrix walks.
router.include_router(mark_tenant_private(campaigns), prefix="/campaigns", tags=["campaigns"])
router.include_router(mark_tenant_private(enrolments), prefix="/campaigns", tags=["campaigns"])
router.include_router(mark_tenant_private(activations), prefix="/campaigns", tags=["activations"])
router.include_router(mark_tenant_private(rate_cards), prefix="/rate-cards", tags=["activations"])
router.include_router(mark_tenant_private(ledger), prefix="/ledger", tags=["ledger"])
router.include_router(mark_tenant_private(payouts), prefix="/payouts", tags=["ledger"])
router.include_router(mark_tenant_private(orders), prefix="/orders", tags=["orders"])
router.include_router(mark_tenant_private(rules), prefix="/campaigns", tags=["commission rules"])
router.include_router(mark_tenant_private(codes), prefix="/codes", tags=["codes"])
router.include_router(mark_tenant_private(links), prefix="/links", tags=["links"])
router.include_router(mark_tenant_private(holdout_tests), prefix="/holdout-tests", tags=["holdout tests"])
router.include_router(mark_tenant_private(audience_holdouts), prefix="/audience-holdouts", tags=["holdout tests"])
router.include_router(mark_tenant_private(fraud), prefix="/fraud", tags=["fraud"])
router.include_router(mark_tenant_private(fx_rates), prefix="/fx-rates", tags=["reports"])
router.include_router(mark_tenant_private(creator_keys), prefix="/creators", tags=["fraud"])
router.include_router(mark_tenant_private(privacy_receipts), prefix="/privacy", tags=["privacy"])
# Reports read other packages' tenant-owned tables: declared private by hand.
router.include_router(declare_tenant_private(reports), tags=["reports"])
router.include_router(declare_tenant_private(media), tags=["reports"])
router.include_router(declare_tenant_private(comparison), tags=["reports"])
router.include_router(declare_tenant_private(recompute), tags=["reports"])
# Public: the click redirect the gateway forwards without an identity (no tenant, no scope).
router.include_router(clicks)
