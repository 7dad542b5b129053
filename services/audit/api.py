"""The whole audit URL map."""

from fastapi import APIRouter

from services.audit.audit.endpoints import router as audits

router = APIRouter()
router.include_router(audits, prefix="/audits", tags=["audits"])
