import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from services.audit.appeals import repository, service
from services.audit.appeals.schemas import AppealRead, AppealResolve, AppealStatus
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.errors import NotFound
from shared.identity import Principal, requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Every route here is tenant-private (audit/api.py marks them: shared.tenancy). Appeals are filed
# by creators through a share link's public view (services/audit/public/endpoints.py).
router = APIRouter()

AppealPage = PageOut[AppealRead]


@router.get("", response_model=AppealPage, dependencies=[requires("audits:read")])
async def list_appeals(
    session: ReadSession,
    page: Page,
    status: Annotated[AppealStatus | None, Query()] = None,
    creator_id: Annotated[uuid.UUID | None, Query()] = None,
    audit_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    """Appeals creators filed through your share links, newest first; filter by status
    (open: to review), creator or audit."""
    found = await repository.list_page(session, page, status=status, creator_id=creator_id, audit_id=audit_id)
    return model_response(
        AppealPage(
            items=[AppealRead.of(a) for a in found[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(found, page.limit, repository.SORT),
        )
    )


@router.get("/{appeal_id}", response_model=AppealRead, dependencies=[requires("audits:read")])
async def get_appeal(appeal_id: uuid.UUID, session: ReadSession) -> Response:
    """One appeal: the finding contested, the creator's comment and evidence, and its resolution."""
    appeal = await repository.get(session, appeal_id)
    if appeal is None:
        raise NotFound(f"appeal {appeal_id} does not exist")
    return model_response(AppealRead.of(appeal))


@router.post(
    "/{appeal_id}/resolution",
    response_model=AppealRead,
    responses=error_responses(409),
    dependencies=[requires("audits:write")],
)
async def resolve_appeal(appeal_id: uuid.UUID, body: AppealResolve, session: Session, principal: Principal) -> Response:
    """Resolve an appeal: upheld or rejected, with a note the creator reads on its shared view and
    you on the audit. The same resolution again changes nothing; a different one is a 409."""
    appeal = await service.resolve(session, appeal_id, body, principal.subject)
    return model_response(AppealRead.of(appeal))
