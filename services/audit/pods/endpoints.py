from fastapi import APIRouter
from starlette.responses import Response

from services.audit.pods import repository
from services.audit.projection.schemas import PodRead
from shared.app import model_response
from shared.db import ReadSession
from shared.identity import requires
from shared.pagination import Page, PageOut

router = APIRouter()

PodPage = PageOut[PodRead]


@router.get("", response_model=PodPage, dependencies=[requires("audits:read")])
async def list_pods(session: ReadSession, page: Page) -> Response:
    """Engagement pods found across every creator's comments (recomputed shortly after comments
    arrive), most co-comments first: members, creators involved, and the evidence."""
    rows = await repository.list_page(session, page)
    return model_response(
        PodPage(items=[PodRead.model_validate(p, from_attributes=True) for p in rows[: page.limit]],
                next_cursor=repository.SORTS.next_cursor(rows, page.limit, repository.SORT))
    )
