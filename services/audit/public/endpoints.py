"""The creator's view of its audit through a share link, and its appeals: public (the gateway
forwards `/shared/...` with no identity), so the link is found across tenants by its token's
hash, and everything after that is done for the link's tenant (shared.tenancy.acting_for).

The token is a secret in a path: it is never written to a log or a message (the shared error
log redacts it: shared/observability.py `loggable_path`), and the answers tell browsers and
proxies not to keep it (no-store) nor send it on as a referrer."""

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select
from starlette.responses import HTMLResponse, Response

from services.audit.appeals import repository as appeals
from services.audit.appeals import service as appeal_service
from services.audit.appeals.schemas import AppealCreate, PublicAppealRead
from services.audit.audit import privacy
from services.audit.audit.models import Audit
from services.audit.projection.models import Creator
from services.audit.public.schemas import SharedAudit, SharedAuditView
from services.audit.report import endpoints as report
from services.audit.sharing import service as sharing
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.identity import public
from shared.openapi import error_responses
from shared.errors import NotFound
from shared.tenancy import acting_for

router = APIRouter()

# secrets.token_urlsafe's alphabet: anything else is not a token (422 naming path.token, which says
# nothing about which tokens exist).
Token = Annotated[
    str, Path(min_length=1, max_length=200, pattern="^[A-Za-z0-9_-]+$", description="The token of the share link.")
]
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
UNKNOWN_LINK = {404: {"description": "Unknown, expired or revoked link (one answer for all three)."}}


def _private(response: Response) -> Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


@router.get(
    "/shared/audits/{token}", response_model=SharedAuditView, responses=UNKNOWN_LINK, dependencies=[public()],
    summary="A creator's audit, shared",
)
async def shared_audit(token: Token, session: Session) -> Response:
    """No credentials: the creator's latest completed audit (score, grade, each signal with its
    evidence, flags, versions) and its appeals with their resolutions, read-only. 404 for an
    unknown, expired or revoked link."""
    link = await sharing.resolve(session, token)
    creator = await session.get(Creator, link.creator_id)
    latest = await _latest(session, link.creator_id)
    with acting_for(session, link.tenant_id):
        filed = await appeals.of_creator(session, link.creator_id)
    view = SharedAuditView(
        creator_id=link.creator_id, platform=creator.platform if creator else None,
        handle=creator.handle if creator else None,
        audit=SharedAudit.of(privacy.as_seen_by(latest, link.tenant_id)) if latest else None,
        appeals=[PublicAppealRead.of(a) for a in filed], expires_at=link.expires_at,
    )
    return _private(model_response(view))


async def _latest(session, creator_id) -> Audit | None:
    """The creator's latest completed audit."""
    return (
        await session.scalars(
            select(Audit).where(Audit.creator_id == creator_id, Audit.status == "completed")
            .order_by(Audit.created_at.desc(), Audit.id.desc()).limit(1)
        )
    ).first()


@router.get(
    "/shared/audits/{token}/report",
    response_class=HTMLResponse,
    responses={
        200: {"description": "The report page (no script, nothing loaded from elsewhere).",
              "content": {"text/html": {"schema": {"type": "string"}}}},
        404: {"description": "Unknown, expired or revoked link (one answer for all three), or no completed "
              "audit of the creator yet."},
    },
    dependencies=[public()],
    summary="A creator's audit report, shared",
)
async def shared_report(token: Token, reads: ReadSession) -> Response:
    """No credentials: the creator's latest completed audit as the report page (charts, evidence,
    disclosure table) with the appeals filed through this workspace and their resolutions. Print
    it from the browser to keep a PDF. 404 for an unknown, expired or revoked link, or when the
    creator has no completed audit yet."""
    # Read through the ReadSession: each read returns its connection at once, so rendering (charts,
    # templates: the slow part) never holds one; an anonymous route must not be able to drain the pool.
    link, for_link = await sharing.resolve_read(reads, token)
    latest = await _latest(for_link, link.creator_id)
    if latest is None:
        raise NotFound("no completed audit of this creator yet")
    filed = await appeals.of_audit(for_link, latest.id)
    html = await report.page(for_link, latest, viewer=link.tenant_id, appealed=filed, for_creator=True)
    return _private(HTMLResponse(html))


@router.post(
    "/shared/audits/{token}/appeals",
    status_code=201,
    response_model=PublicAppealRead,
    responses={
        200: {"model": PublicAppealRead, "description": "The same appeal is already open: that one, unchanged."},
        **UNKNOWN_LINK,
        **{k: v for k, v in error_responses(409).items()},
    },
    dependencies=[public()],
    summary="Appeal a finding of a shared audit",
)
async def file_appeal(token: Token, body: AppealCreate, session: Session) -> Response:
    """No credentials: contest one finding (a flag or a signal) of one of the creator's completed
    audits, with a comment and up to 5 links to evidence. The workspace that shared the link
    reviews it. 404 for an unknown, expired or revoked link or an unknown audit; 422 naming
    `audit_id` for another creator's audit, `flag` for a finding the audit does not have; 409 for
    an audit not completed."""
    link = await sharing.resolve(session, token)
    with acting_for(session, link.tenant_id):
        appeal, created = await appeal_service.file(session, link, body)
        read = PublicAppealRead.of(appeal)
    return _private(model_response(read, status_code=201 if created else 200))
