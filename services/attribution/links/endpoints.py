import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from services.attribution.links import repository, service
from services.attribution.links.schemas import LinkCreate, LinkRead, LinkUpdate
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

LinkPage = PageOut[LinkRead]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=LinkRead,
    responses=error_responses(409),
    dependencies=[requires("attribution:write"), idempotency.depends],
)
async def create_code(body: LinkCreate, session: Session) -> LinkRead:
    """Give an enrolled creator a tracked link to `destination`, with UTM parameters the destination
    does not already carry. Share `/r/{slug}`. 409 naming `creator_id` when the creator is not
    enrolled, `campaign_id` when the campaign has ended."""
    return LinkRead.of(await service.create(session, body), utcnow())


@router.get("", response_model=LinkPage, dependencies=[requires("attribution:read")])
async def list_links(
    session: ReadSession,
    page: Page,
    campaign_id: Annotated[uuid.UUID | None, Query()] = None,
    creator_id: Annotated[uuid.UUID | None, Query()] = None,
    state: Annotated[Literal["active", "expired", "revoked"] | None, Query()] = None,
) -> Response:
    """Your tracked links, oldest first, one cursor page at a time; optionally of one campaign,
    one creator, in one state."""
    found = await repository.list_page(session, page, campaign_id=campaign_id, creator_id=creator_id, state=state)
    now = utcnow()
    return model_response(
        LinkPage(
            items=[LinkRead.of(c, now) for c in found[: page.limit]],
            next_cursor=repository.SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT),
        )
    )


@router.get("/{link_id}", response_model=LinkRead, dependencies=[requires("attribution:read")])
async def get_code(link_id: uuid.UUID, session: ReadSession) -> Response:
    """One of your tracked links."""
    link = await repository.get(session, link_id)
    if link is None:
        raise NotFound(f"link {link_id} does not exist")
    return model_response(LinkRead.of(link, utcnow()))


@router.patch(
    "/{link_id}", response_model=LinkRead, responses=error_responses(409), dependencies=[requires("attribution:write")]
)
async def update_code(link_id: uuid.UUID, body: LinkUpdate, session: Session) -> LinkRead:
    """Change a link's attribution window or expiry (`expires_at: null` removes it). 409 once the link is revoked."""
    return LinkRead.of(await service.update(session, link_id, body), utcnow())


@router.post("/{link_id}/revoke", response_model=LinkRead, dependencies=[requires("attribution:write")])
async def revoke_code(link_id: uuid.UUID, session: Session) -> LinkRead:
    """Revoke a link: `/r/{slug}` answers 404 from now on (on every replica within a second), and
    its slug is never given out again. Revoking it again changes nothing."""
    return LinkRead.of(await service.revoke(session, link_id), utcnow())
