import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from services.attribution.codes import repository, service
from services.attribution.codes.schemas import CodeCreate, CodeRead, CodeUpdate, State
from services.attribution.db import idempotency
from shared.app import model_response
from shared.db import ReadSession, Session, utcnow
from shared.errors import NotFound
from shared.idempotency import IdempotentRoute
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Every route here is tenant-private (attribution/api.py marks them: shared.tenancy).
router = APIRouter(route_class=IdempotentRoute)

CodePage = PageOut[CodeRead]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CodeRead,
    responses=error_responses(409),
    dependencies=[requires("attribution:write"), idempotency.depends],
)
async def create_code(body: CodeCreate, session: Session) -> CodeRead:
    """Give an enrolled creator an affiliate code, chosen (`code`) or generated from a `pattern`.
    409 naming the code when it is taken (in any case, revoked codes included), naming
    `creator_id` when the creator is not enrolled, `campaign_id` when the campaign has ended."""
    return CodeRead.of(await service.create(session, body), utcnow())


@router.get("", response_model=CodePage, dependencies=[requires("attribution:read")])
async def list_codes(
    session: ReadSession,
    page: Page,
    campaign_id: Annotated[uuid.UUID | None, Query()] = None,
    creator_id: Annotated[uuid.UUID | None, Query()] = None,
    state: Annotated[State | None, Query()] = None,
) -> Response:
    """Your affiliate codes, oldest first, one cursor page at a time; optionally of one campaign,
    one creator, in one state."""
    found = await repository.list_page(session, page, campaign_id=campaign_id, creator_id=creator_id, state=state)
    now = utcnow()
    return model_response(
        CodePage(
            items=[CodeRead.of(c, now) for c in found[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT),
        )
    )


@router.get("/{code_id}", response_model=CodeRead, dependencies=[requires("attribution:read")])
async def get_code(code_id: uuid.UUID, session: ReadSession) -> Response:
    """One of your affiliate codes, with its state and uses."""
    code = await repository.get(session, code_id)
    if code is None:
        raise NotFound(f"code {code_id} does not exist")
    return model_response(CodeRead.of(code, utcnow()))


@router.patch(
    "/{code_id}", response_model=CodeRead, responses=error_responses(409), dependencies=[requires("attribution:write")]
)
async def update_code(code_id: uuid.UUID, body: CodeUpdate, session: Session) -> CodeRead:
    """Change a code's usage limit or expiry (null removes it). 409 once the code is revoked."""
    return CodeRead.of(await service.update(session, code_id, body), utcnow())


@router.post("/{code_id}/revoke", response_model=CodeRead, dependencies=[requires("attribution:write")])
async def revoke_code(code_id: uuid.UUID, session: Session) -> CodeRead:
    """Revoke a code: orders carrying it are no longer credited. It stays reserved, so it is
    never given to anyone else. Revoking it again changes nothing."""
    return CodeRead.of(await service.revoke(session, code_id), utcnow())
