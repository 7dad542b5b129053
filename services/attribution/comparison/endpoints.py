import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from services.attribution.comparison import service
from services.attribution.comparison.schemas import CampaignAttribution, ComparisonQuery
from shared.db import ReadSession
from shared.identity import requires

# Tenant-private: attribution/api.py declares it so (its tables belong to other packages).
router = APIRouter()


@router.get("/campaigns/{campaign_id}/attribution", response_model=CampaignAttribution,
            dependencies=[requires("attribution:read")])
async def campaign_attribution(campaign_id: uuid.UUID, session: ReadSession,
                               query: Annotated[ComparisonQuery, Query()]) -> Response:
    """Each attribution model's credit per creator side by side (orders, revenue, commission, per
    currency) over the campaign's customer paths in `from`/`to`, with the paths each used. 404: no
    such campaign of yours; 422: an unknown model or a bad parameter, named."""
    result = await service.compare_campaign(session, campaign_id, query)
    return Response(result.model_dump_json(by_alias=True), media_type="application/json")
