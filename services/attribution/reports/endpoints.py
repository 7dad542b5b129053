import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.responses import Response

from services.attribution.reports import csvfile, lines, service
from services.attribution.reports.schemas import CampaignReport, CreatorReport, LinesReport, Period
from shared.money import Currency
from shared.db import ReadSession
from shared.identity import requires

# Tenant-private: attribution/api.py declares them so (their tables belong to other packages).
router = APIRouter()


CSV = {200: {"content": {"text/csv": {}}}}


class ReportQuery(Period):
    format: Literal["json", "csv"] = Field(default="json", description="csv: the report's lines as a spreadsheet file.")


def _json(report: CampaignReport | CreatorReport) -> Response:
    return Response(report.model_dump_json(by_alias=True), media_type="application/json")


def _money_rows(lead: dict, money: list[dict], rest: dict) -> list[dict]:
    """A row per currency of a line (one row with empty money when it has none)."""
    return [{**lead, **rest, **m} for m in money] or [{**lead, **rest}]


@router.get("/campaigns/{campaign_id}/report", response_model=CampaignReport, responses=CSV,
            dependencies=[requires("attribution:read")])
async def campaign_report(campaign_id: uuid.UUID, session: ReadSession, query: Annotated[ReportQuery, Query()]) -> Response:
    """The campaign's clicks, credited orders, revenue and commission (per currency), its cost, and
    the same for each of its creators; `from`/`to` limit orders by placed_at and clicks by
    clicked_at; `format=csv`: a row per creator and currency. 404: no such campaign of yours; 422:
    `to` not after `from`."""
    report = await service.campaign_report(session, campaign_id, query.from_, query.to)
    if query.format == "csv":
        rows = []
        for line in report.model_dump(mode="json")["creators"]:
            rows += _money_rows({"creator_id": line["creator_id"], "enrolled": line["enrolled"]}, line["money"],
                                {"clicks": line["clicks"], "cost": line["cost"]})
        return csvfile.response(rows, f"campaign-{campaign_id}-report.csv")
    return _json(report)


@router.get("/creators/{creator_id}/report", response_model=CreatorReport, responses=CSV,
            dependencies=[requires("attribution:read")])
async def creator_report(creator_id: uuid.UUID, session: ReadSession, query: Annotated[ReportQuery, Query()]) -> Response:
    """One creator across your campaigns: totals per currency and each campaign's figures, as the
    campaign report counts them; `format=csv`: a row per campaign and currency. 404: the creator
    has nothing in any campaign of yours; 422: `to` not after `from`."""
    report = await service.creator_report(session, creator_id, query.from_, query.to)
    if query.format == "csv":
        rows = []
        for line in report.model_dump(mode="json")["campaigns"]:
            rows += _money_rows({"campaign_id": line["campaign_id"], "name": line["name"], "enrolled": line["enrolled"]},
                                line["money"], {"clicks": line["clicks"], "cost": line["cost"]})
        return csvfile.response(rows, f"creator-{creator_id}-report.csv")
    return _json(report)


class LinesQuery(Period):
    by: Literal["creator", "platform", "day"] = Field(
        default="creator", description="One line per creator (the default), per platform or per UTC day.")
    currency: Currency | None = Field(
        default=None, description="Every amount in this currency with your dated FX rates (POST /v1/attribution/fx-rates); "
        "omitted: a row per currency, never added together.")
    format: Literal["json", "csv"] = Field(default="json", description="csv: every line at once, as a spreadsheet file.")
    limit: int = Field(default=100, ge=1, le=1000, description="Lines per page (json).")
    cursor: str | None = Field(default=None, max_length=400, description="The previous page's next_cursor.")


@router.get("/campaigns/{campaign_id}/report/lines", response_model=LinesReport,
            responses={200: {"content": {"text/csv": {}}}}, dependencies=[requires("attribution:read")])
async def campaign_report_lines(campaign_id: uuid.UUID, session: ReadSession, query: Annotated[LinesQuery, Query()]) -> Response:
    """The campaign per creator, platform or day: clicks, orders, revenue, AOV, conversion rate,
    commission by state, cost, CPA, ROAS and ROI, a row per currency (or all in `currency` with
    your FX rates, the rates used listed). Cursor-paginated JSON, or every line as CSV
    (`format=csv`). A period with nothing in it answers an empty report that says so. 404: no such
    campaign of yours; 422: a bad query, or an FX rate missing for an amount, named."""
    result = await lines.report(session, campaign_id, query.by, query.from_, query.to, query.currency)
    if query.format == "csv":
        name = f"campaign-{campaign_id}-by-{query.by}.csv"
        return Response(lines.as_csv(result), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(LinesReport.model_validate(lines.page(result, query.limit, query.cursor)).model_dump_json(by_alias=True),
                    media_type="application/json")
