import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from services.attribution.reports import service
from services.attribution.reports.schemas import CampaignReport, CreatorReport, Period
from shared.db import ReadSession
from shared.identity import requires

# Tenant-private: attribution/api.py declares them so (their tables belong to other packages).
router = APIRouter()


def _json(report: CampaignReport | CreatorReport) -> Response:
    return Response(report.model_dump_json(by_alias=True), media_type="application/json")


@router.get("/campaigns/{campaign_id}/report", response_model=CampaignReport, dependencies=[requires("attribution:read")])
async def campaign_report(campaign_id: uuid.UUID, session: ReadSession, period: Annotated[Period, Query()]) -> Response:
    """The campaign's clicks, credited orders, revenue and commission (per currency), its cost, and
    the same for each of its creators; `from`/`to` limit orders by placed_at and clicks by
    clicked_at. 404: no such campaign of yours; 422: `to` not after `from`."""
    return _json(await service.campaign_report(session, campaign_id, period.from_, period.to))


@router.get("/creators/{creator_id}/report", response_model=CreatorReport, dependencies=[requires("attribution:read")])
async def creator_report(creator_id: uuid.UUID, session: ReadSession, period: Annotated[Period, Query()]) -> Response:
    """One creator across your campaigns: totals per currency and each campaign's figures, as the
    campaign report counts them. 404: the creator has nothing in any campaign of yours; 422: `to`
    not after `from`."""
    return _json(await service.creator_report(session, creator_id, period.from_, period.to))
