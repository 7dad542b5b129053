"""The whole discovery URL map."""

from fastapi import APIRouter

from services.discovery.creator.endpoints import router as creators

router = APIRouter()
router.include_router(creators, prefix="/creators", tags=["creators"])
