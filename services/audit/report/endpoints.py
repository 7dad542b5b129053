"""The audit report: one page to look at instead of JSON to read (docs/guide/audit-report.md)."""

import asyncio
import uuid
from functools import cache
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from services.audit.appeals import repository as appeals
from services.audit.appeals.schemas import PublicAppealRead
from services.audit.audit import privacy, repository
from services.audit.audit.models import Audit
from services.audit.audit.schemas import AuditRead
from services.audit.brandsafety import service as brand_safety
from services.audit.config import get_settings
from services.audit.projection.models import Creator, Post
from services.audit.report.pdf import PdfUnavailable, find_chromium, html_to_pdf
from services.audit.report.render import render_html
from services.audit.report.view import CreatorHeader, PostRef
from shared.db import Reads, ReadSession
from shared.errors import Conflict, NotFound
from shared.identity import requires
from shared.openapi import DESCRIPTIONS, SCHEMAS

router = APIRouter()

ReportFormat = Literal["html", "pdf"]
# Errors are JSON like every other route's, though the page itself is HTML.
_ERROR = {"application/json": {"schema": {"$ref": SCHEMAS + "ErrorBody"}}}


@cache
def _printing() -> asyncio.Semaphore:
    """Chromium processes printing at once (each takes ~150 MB and a core for a second); made on
    first use, when the settings are there."""
    return asyncio.Semaphore(get_settings().audit_report_pdf_concurrency)


async def _creator(session: Reads, creator_id: uuid.UUID) -> CreatorHeader | None:
    creator = await session.get(Creator, creator_id)
    if creator is None:
        return None
    return CreatorHeader(creator.platform, creator.handle, creator.display_name, creator.followers)


async def _brand_safety(session: Reads, creator_id: uuid.UUID) -> dict | None:
    """The creator's brand-safety hits now, with the default list and the caller's own lists
    (services/audit/brandsafety), as the report shows them; None when audit holds no creator."""
    try:
        found = await brand_safety.check(session, creator_id)
    except NotFound:
        return None
    return {
        "hits": [hit.model_dump(mode="json") for hit in found.hits],
        "counts": {s.category: s.hits for s in found.summary if s.hits},
        "checked": found.checked.model_dump(mode="json"),
        "lists": [f"{v.list} {v.version}" for v in found.versions],
        "truncated": found.truncated,
        "hits_total": found.hits_total,
    }


async def _posts(session: Reads, audit: dict) -> dict[str, PostRef]:
    """The posts the growth anomalies name (a cause's post), as the projection holds them."""
    ids = {
        uuid.UUID(a["post_id"])
        for s in audit["signals"] if s["name"] == "growth"
        for a in s["details"].get("anomalies", []) if a.get("post_id")
    }
    if not ids:
        return {}
    rows = await session.execute(
        select(Post.post_id, Post.external_id, Post.posted_at, Post.caption).where(Post.post_id.in_(ids))
    )
    return {str(r.post_id): PostRef(r.external_id, r.posted_at.isoformat(), r.caption) for r in rows}


def appeal_rows(filed) -> list[dict]:
    """Appeals as the report's appeals section shows them."""
    return [PublicAppealRead.of(a).model_dump(mode="json") for a in filed]


async def page(session: Reads, row: Audit, *, viewer: uuid.UUID | None, appealed=(), safety: dict | None = None,
               for_creator: bool = False) -> str:
    """The report page of a completed or failed audit as `viewer` (the workspace reading, or the one
    that shared it) may see it; `for_creator`: the creator's shared view (no brand-safety section:
    it would show the workspace's own keyword lists)."""
    audit = AuditRead.of(row, viewer=viewer).model_dump(mode="json")
    creator = await _creator(session, row.creator_id)
    posts = await _posts(session, audit)
    # matplotlib and Jinja2 are CPU work: off the event loop.
    return await run_in_threadpool(
        render_html, audit, creator=creator, posts=posts, brand_safety=safety, appeals=appeal_rows(appealed),
        hide_brand_safety=for_creator,
    )


# How long a PDF request waits for a printing slot: with the print's own timeout it stays inside
# the gateway's slow-route budget, instead of queueing past it while the service still prints.
PDF_QUEUE_SECONDS = 10.0


async def pdf_of(html: str) -> bytes:
    settings = get_settings()
    printing = _printing()
    try:
        await asyncio.wait_for(printing.acquire(), timeout=PDF_QUEUE_SECONDS)
    except TimeoutError:
        raise PdfUnavailable(f"all {settings.audit_report_pdf_concurrency} PDF printers are busy; try again in a "
                             "moment, or print the HTML report from the browser") from None
    try:
        return await run_in_threadpool(
            html_to_pdf, html, find_chromium(settings.audit_report_chromium),
            timeout=settings.audit_report_pdf_timeout_seconds,
        )
    finally:
        printing.release()


@router.get(
    "/{audit_id}/report",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "The report: a self-contained HTML page (no script, nothing loaded from elsewhere), "
            "or with ?format=pdf the same page printed to PDF.",
            "content": {"text/html": {"schema": {"type": "string"}},
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        409: {"description": "The audit is still pending or running: " + DESCRIPTIONS[409], "content": _ERROR},
        503: {"description": "No PDF can be printed here (no Chromium, or it failed; `detail` says which) — the "
              "HTML report prints from a browser — or the database is unavailable.", "content": _ERROR},
    },
    dependencies=[requires("audits:read")],
)
async def audit_report(
    audit_id: uuid.UUID,
    session: ReadSession,
    report_format: Annotated[ReportFormat, Query(alias="format", description="html (default) or pdf.")] = "html",
) -> Response:
    """The audit as a page for people: score, grade, each signal with its evidence, follower-growth,
    audience and engagement charts, comment examples, pods, disclosure compliance, brand safety (as
    of now, with your keyword lists), your appeals against it, versions and data window (or why it
    failed). 409 while the audit is pending or running."""
    row = await repository.get(session, audit_id)
    if row is None:
        raise NotFound(f"audit {audit_id} does not exist")
    if row.status in ("pending", "running"):
        raise Conflict(f"audit {audit_id} is {row.status}: its report exists once it has completed or failed")
    html = await page(session, row, viewer=privacy.viewer_of(session), appealed=await appeals.of_audit(session, audit_id),
                      safety=await _brand_safety(session, row.creator_id))
    if report_format == "html":
        return HTMLResponse(html)
    pdf = await pdf_of(html)
    return Response(
        pdf, media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="audit-{audit_id}.pdf"'},
    )
