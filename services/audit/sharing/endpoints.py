import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from services.audit.sharing import repository, service
from services.audit.sharing.schemas import PUBLIC_PATH, ShareLinkCreate, ShareLinkCreated, ShareLinkRead
from shared.app import model_response
from shared.db import ReadSession, Session, utcnow
from shared.errors import NotFound
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Every route here is tenant-private (audit/api.py marks them: shared.tenancy).
router = APIRouter()

ShareLinkPage = PageOut[ShareLinkRead]


@router.post(
    "/creators/{creator_id}/share-links",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareLinkCreated,
    responses=error_responses(404),
    dependencies=[requires("audits:write")],
)
async def create_share_link(creator_id: uuid.UUID, body: ShareLinkCreate, session: Session) -> Response:
    """A read-only link for the creator to see its latest completed audit and appeal its findings,
    without credentials. The token is in the answer this once; keep it. 404 when audit holds no
    such creator."""
    link, token = await service.create(session, creator_id, body)
    read = ShareLinkRead.of(link, utcnow())
    created = ShareLinkCreated(**read.model_dump(), token=token, url=f"{PUBLIC_PATH}{token}")
    return model_response(created, status_code=201)


@router.get("/share-links", response_model=ShareLinkPage, dependencies=[requires("audits:read")])
async def list_share_links(
    session: ReadSession, page: Page, creator_id: Annotated[uuid.UUID | None, Query()] = None
) -> Response:
    """Your share links, newest first (never their tokens), optionally of one creator."""
    found = await repository.list_page(session, page, creator_id=creator_id)
    now = utcnow()
    return model_response(
        ShareLinkPage(
            items=[ShareLinkRead.of(link, now) for link in found[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(found, page.limit, repository.SORT),
        )
    )


@router.get("/share-links/{share_link_id}", response_model=ShareLinkRead, dependencies=[requires("audits:read")])
async def get_share_link(share_link_id: uuid.UUID, session: ReadSession) -> Response:
    """One of your share links (without its token)."""
    link = await repository.get(session, share_link_id)
    if link is None:
        raise NotFound(f"share link {share_link_id} does not exist")
    return model_response(ShareLinkRead.of(link, utcnow()))


@router.delete(
    "/share-links/{share_link_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
    dependencies=[requires("audits:write")],
)
async def revoke_share_link(share_link_id: uuid.UUID, session: Session) -> Response:
    """Revoke a link: its public view and appeals answer 404 from now on; it stays listed as
    revoked. Revoking it again changes nothing. Appeals filed through it stay, with their
    resolutions."""
    await service.revoke(session, share_link_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
