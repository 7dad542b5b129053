import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from services.audit.appeals import repository as appeals
from services.audit.audit import privacy, repository, service
from services.audit.audit.compare import compare
from services.audit.audit.schemas import AuditComparison, AuditCreate, AuditDetail, AuditRead, AuditStatus
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.errors import Conflict, Invalid, NotFound
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

router = APIRouter()

AuditPage = PageOut[AuditRead]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AuditRead,
    responses={
        200: {"model": AuditRead, "description": "An audit of the creator was already pending or running: that one."},
        **error_responses(404, 409),
    },
    dependencies=[requires("audits:write")],
)
async def request_audit(body: AuditCreate, session: Session) -> Response:
    """Ask for an audit of a creator: 202 with a new pending audit (it runs in the background; poll
    GET /audits/{id}), or 200 with the creator's audit already pending or running (a pending one
    takes the disclosure jurisdictions and sponsors named). 404 when audit holds no such creator;
    409 when its running audit was asked for other jurisdictions or sponsors."""
    audit, created = await service.request(
        session, body.creator_id, jurisdictions=body.jurisdictions, sponsors=body.sponsors
    )
    read = AuditRead.of(audit, viewer=privacy.viewer_of(session))
    response = model_response(read, status_code=202 if created else 200)
    # The service's own path: the gateway maps it to its public one (/v1/audit/audits/{id}).
    response.headers["Location"] = f"/audits/{audit.id}"
    return response


@router.get("", response_model=AuditPage, dependencies=[requires("audits:read")])
async def list_audits(
    session: ReadSession,
    page: Page,
    creator_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[AuditStatus | None, Query()] = None,
) -> Response:
    """List audits, oldest first; filter by creator or status."""
    rows = await repository.list_page(session, page, creator_id=creator_id, status=status)
    # Serialised here, once (shared.app.model_response); response_model documents it.
    return model_response(
        AuditPage(
            items=[AuditRead.of(a, viewer=privacy.viewer_of(session)) for a in rows[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(rows, page.limit, "created_at"),
        )
    )


@router.get("/{audit_id}", response_model=AuditDetail, dependencies=[requires("audits:read")])
async def get_audit(audit_id: uuid.UUID, session: ReadSession) -> Response:
    """One audit: status, score, grade, confidence, each signal with its evidence, the versions,
    data window and sample sizes it used, or why it failed; and your appeals against it."""
    audit = await repository.get(session, audit_id)
    if audit is None:
        raise NotFound(f"audit {audit_id} does not exist")
    return model_response(AuditDetail.with_appeals(audit, await appeals.of_audit(session, audit_id),
                                                   viewer=privacy.viewer_of(session)))


@router.get(
    "/{audit_id}/compare/{other_audit_id}",
    response_model=AuditComparison,
    responses=error_responses(409),
    dependencies=[requires("audits:read")],
)
async def compare_audits(audit_id: uuid.UUID, other_audit_id: uuid.UUID, session: ReadSession) -> Response:
    """What changed from audit `audit_id` (before) to `other_audit_id` (after), whatever their
    dates: score, grade, confidence, flags, each signal, and the causes where known (model, rules,
    benchmarks, new data). 404 naming the audit that does not exist, 422 when they are of two
    creators, 409 naming one that is not completed."""
    found = []
    for which, wanted in (("audit_id", audit_id), ("other_audit_id", other_audit_id)):
        audit = await repository.get(session, wanted)
        if audit is None:
            raise NotFound(f"audit {wanted} ({which}) does not exist")
        found.append(audit)
    before, after = found
    if before.creator_id != after.creator_id:
        raise Invalid(
            "path.other_audit_id",
            f"audit {after.id} is of creator {after.creator_id}, audit {before.id} of creator {before.creator_id}: "
            "only audits of one creator compare",
        )
    for which, audit in (("audit_id", before), ("other_audit_id", after)):
        if audit.status != "completed":
            raise Conflict(f"audit {audit.id} ({which}) is {audit.status}: only completed audits compare")
    viewer = privacy.viewer_of(session)
    return model_response(compare(privacy.as_seen_by(before, viewer), privacy.as_seen_by(after, viewer)))
