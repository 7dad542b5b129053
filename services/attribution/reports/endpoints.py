import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime
from starlette.responses import Response

from services.attribution.reports import service
from services.attribution.reports.schemas import CampaignReport, CreatorReport
from shared.db import ReadSession
from shared.errors import Invalid
from shared.identity import requires

# Tenant-private: attribution/api.py declares them so (their tables belong to other packages).
router = APIRouter()

From = Annotated[
    AwareDatetime | None, Query(alias="from", description="Only orders placed and clicks made at or after this time.")
]
To = Annotated[AwareDatetime | None, Query(description="Only orders placed and clicks made before this time; after `from`.")]


def _period(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """The period in UTC; `to` after `from`. A time whose offset takes it outside the calendar is refused."""
    bounds = []
    for field, value in (("query.from", start), ("query.to", end)):
        try:
            bounds.append(None if value is None else value.astimezone(UTC))
        except OverflowError:
            raise Invalid(field, "is outside the years 1 to 9999 once in UTC") from None
    start, end = bounds
    if start is not None and end is not None and end <= start:
        raise Invalid("query.to", f"must be after from ({start.isoformat()})")
    return start, end


def _json(report: CampaignReport | CreatorReport) -> Response:
    return Response(report.model_dump_json(by_alias=True), media_type="application/json")


@router.get("/campaigns/{campaign_id}/report", response_model=CampaignReport, dependencies=[requires("attribution:read")])
async def campaign_report(campaign_id: uuid.UUID, session: ReadSession, from_: From = None, to: To = None) -> Response:
    """The campaign's clicks, credited orders, revenue and commission (per currency), its cost, and
    the same for each of its creators; `from`/`to` limit orders by placed_at and clicks by
    clicked_at. 404: no such campaign of yours; 422: `to` not after `from`."""
    start, end = _period(from_, to)
    return _json(await service.campaign_report(session, campaign_id, start, end))


@router.get("/creators/{creator_id}/report", response_model=CreatorReport, dependencies=[requires("attribution:read")])
async def creator_report(creator_id: uuid.UUID, session: ReadSession, from_: From = None, to: To = None) -> Response:
    """One creator across your campaigns: totals per currency and each campaign's figures, as the
    campaign report counts them. 404: the creator has nothing in any campaign of yours; 422: `to`
    not after `from`."""
    start, end = _period(from_, to)
    return _json(await service.creator_report(session, creator_id, start, end))
