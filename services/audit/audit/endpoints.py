import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from services.audit.audit import repository
from services.audit.audit.schemas import AuditRead, AuditStatus
from shared.app import model_response
from shared.db import ReadSession
from shared.errors import NotFound
from shared.identity import requires
from shared.pagination import Page, PageOut, next_cursor

router = APIRouter()

AuditPage = PageOut[AuditRead]


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
            items=[AuditRead.model_validate(a) for a in rows[: page.limit]], next_cursor=next_cursor(rows, page.limit)
        )
    )


@router.get("/{audit_id}", response_model=AuditRead, dependencies=[requires("audits:read")])
async def get_audit(audit_id: uuid.UUID, session: ReadSession) -> Response:
    """One audit with its status, score, flags and the model version that produced them."""
    audit = await repository.get(session, audit_id)
    if audit is None:
        raise NotFound(f"audit {audit_id} does not exist")
    return model_response(AuditRead.model_validate(audit))
