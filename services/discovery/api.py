"""The whole discovery URL map."""

from fastapi import APIRouter

from services.discovery.brandfit.endpoints import router as brandfit
from services.discovery.creator.endpoints import router as creators
from services.discovery.shortlist.endpoints import router as shortlists
from shared.tenancy import mark_tenant_private

router = APIRouter()
# mark_tenant_private: every route of a package that owns tenant-private tables is marked in
# OpenAPI (x-tenant-private), which the cross-tenant test matrix walks.
router.include_router(mark_tenant_private(creators), prefix="/creators", tags=["creators"])
router.include_router(mark_tenant_private(shortlists), prefix="/shortlists", tags=["shortlists"])
router.include_router(mark_tenant_private(brandfit), tags=["brand fit"])
