"""`/v1/privacy/requests`: a workspace's data-subject requests (export or erasure of one
customer's data; for the operator workspace, of one creator's), acted on by every service through
`gateway.privacy.v1`, each with its receipt (docs/guide/privacy.md, ADR 0054). `admin` scope."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Request, status
from fastapi.responses import JSONResponse

from services.gateway.privacy import service
from services.gateway.privacy.schemas import PrivacyRequestCreate, PrivacyRequestPage, PrivacyRequestRead
from shared.db import ReadSession, Session
from shared.errors import NotFound, error_body
from shared.identity import Principal, requires
from shared.openapi import error_responses
from shared.pagination import Page

router = APIRouter(prefix="/v1/privacy/requests", tags=["privacy"], dependencies=[requires("admin")])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=PrivacyRequestRead,
             responses=error_responses(403, 422, 503))
async def create_request(body: Annotated[PrivacyRequestCreate, Body()], request: Request, session: Session,
                         principal: Principal) -> PrivacyRequestRead:
    """Ask every service to export or erase what it holds about one person. Accepted at once; each
    service acts on it from Kafka and keeps a receipt (`GET /v1/privacy/requests/{id}`). A creator
    (installation-wide data) can be asked for only by the operator workspace: 403 otherwise."""
    row = await service.create(session, request.app.state.ctx.kafka, principal, body)
    return PrivacyRequestRead.model_validate(row, from_attributes=True)


@router.get("", response_model=PrivacyRequestPage)
async def list_requests(session: ReadSession, principal: Principal, page: Page) -> PrivacyRequestPage:
    """The workspace's requests, newest first (the receipts: GET one)."""
    rows = await service.page(session, principal.tenant_id, page)
    return PrivacyRequestPage(items=[PrivacyRequestRead.model_validate(r, from_attributes=True) for r in rows[: page.limit]],
                              next_cursor=service.SORTS.next_cursor(rows, page.limit, "-created_at"))


@router.get("/{request_id}", response_model=PrivacyRequestRead, responses=error_responses(404))
async def get_request(request_id: uuid.UUID, request: Request, session: ReadSession, principal: Principal) -> PrivacyRequestRead:
    """The request and what each service did: `status` done once all three have acted; for an export,
    each receipt's `export` holds that service's data about the subject."""
    row = await service.one(session, principal.tenant_id, request_id)
    if row is None:
        raise NotFound(f"privacy request {request_id} does not exist")
    return await service.with_receipts(row, principal, request.app.state)


# The proxy's /v1/{service}/{path} would answer the other methods here with "no such service":
# these paths are the gateway's own, so a method they do not take is a 405 saying which they do.
# (Answered, not raised: the shared 405 handler would list the catch-all's methods.)
def _not_allowed(allow: str) -> JSONResponse:
    return JSONResponse(error_body("method_not_allowed", "Method Not Allowed"), status_code=405, headers={"Allow": allow})


@router.api_route("", methods=["PUT", "PATCH", "DELETE"], include_in_schema=False)
async def requests_method_not_allowed() -> JSONResponse:
    return _not_allowed("GET, POST")


@router.api_route("/{request_id}", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def request_method_not_allowed() -> JSONResponse:
    return _not_allowed("GET")
