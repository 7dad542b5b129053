import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from services.attribution.media import service
from services.attribution.reports import csvfile
from services.attribution.media.schemas import MediaReport
from shared.app import model_response
from shared.db import ReadSession
from shared.identity import requires

# Tenant-private: attribution/api.py declares them so (their tables belong to other packages).
router = APIRouter()


@router.get("/campaigns/{campaign_id}/media-report", response_model=MediaReport, responses={200: {"content": {"text/csv": {}}}}, dependencies=[requires("attribution:read")])
async def media_report(
    campaign_id: uuid.UUID,
    session: ReadSession,
    rate_card_version: Annotated[int | None, Query(ge=1, le=2**62, description="One of your rate card's versions; default: your latest, or the built-in card.")] = None,
    format: Annotated[Literal["json", "csv"], Query(description="csv: a row for the totals, each creator, platform and activation.")] = "json",
) -> Response:
    """The campaign's impressions, views, engagements, CPM, CPE, cost per view and EMV (with the
    rate card it used) next to its cost and attributed sales, in total, per creator and per
    platform. A ratio without its denominator is null with the reason. 404: no such campaign of
    yours, or no such rate card version."""
    report = await service.media_report(session, campaign_id, rate_card_version)
    if format == "csv":
        data = report.model_dump(mode="json")
        card = {"rate_card": data["rate_card"]}
        rows = [{"line": "total", "key": "", **data["totals"], **card}]
        rows += [{"line": "creator", "key": c.pop("creator_id"), **c, **card} for c in data["creators"]]
        rows += [{"line": "platform", "key": p.pop("platform"), **p, **card} for p in data["platforms"]]
        rows += [{"line": "activation", "key": a.pop("id"), **a, **card} for a in data["activations"]]
        return csvfile.response(rows, f"campaign-{campaign_id}-media-report.csv")
    return model_response(report)
