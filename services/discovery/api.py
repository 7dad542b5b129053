"""The whole discovery URL map."""

from fastapi import APIRouter

from services.discovery.brandfit.endpoints import router as brandfit
from services.discovery.creator.endpoints import router as creators
from services.discovery.search.endpoints import mentions_router as mentions
from services.discovery.search.endpoints import router as search
from services.discovery.embedding.endpoints import router as lookalikes
from services.discovery.privacy.endpoints import router as privacy
from services.discovery.shortlist.endpoints import router as shortlists
from shared.tenancy import mark_tenant_private

router = APIRouter()
# mark_tenant_private: every route of a package that owns tenant-private tables is marked in
# OpenAPI (x-tenant-private), which the cross-tenant test matrix walks.
router.include_router(mark_tenant_private(creators), prefix="/creators", tags=["creators"])
router.include_router(search, prefix="/search", tags=["search"])
router.include_router(mentions, prefix="/mentions", tags=["search"])
# The creator index is installation-wide: lookalikes read no tenant's data.
router.include_router(lookalikes, prefix="/creators", tags=["creators"])
router.include_router(mark_tenant_private(shortlists), prefix="/shortlists", tags=["shortlists"])
router.include_router(mark_tenant_private(brandfit), tags=["brand fit"])
# Receipts of data-subject requests: the asking workspace's own.
router.include_router(mark_tenant_private(privacy), prefix="/privacy", tags=["privacy"])
