import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from services.attribution.media import service
from services.attribution.media.schemas import MediaReport
from shared.app import model_response
from shared.db import ReadSession
from shared.identity import requires

# Tenant-private: attribution/api.py declares them so (their tables belong to other packages).
router = APIRouter()


@router.get("/campaigns/{campaign_id}/media-report", response_model=MediaReport, dependencies=[requires("attribution:read")])
async def media_report(
    campaign_id: uuid.UUID,
    session: ReadSession,
    rate_card_version: Annotated[int | None, Query(ge=1, le=2**62, description="One of your rate card's versions; default: your latest, or the built-in card.")] = None,
) -> Response:
    """The campaign's impressions, views, engagements, CPM, CPE, cost per view and EMV (with the
    rate card it used) next to its cost and attributed sales, in total, per creator and per
    platform. A ratio without its denominator is null with the reason. 404: no such campaign of
    yours, or no such rate card version."""
    return model_response(await service.media_report(session, campaign_id, rate_card_version))
