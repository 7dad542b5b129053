import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from services.discovery.embedding import service
from services.discovery.embedding.schemas import LookalikeList, LookalikeQuery
from services.discovery.search.filters import conditions
from shared.app import model_response
from shared.db import Session
from shared.identity import requires
from shared.openapi import error_responses

router = APIRouter()


@router.get(
    "/{creator_id}/lookalikes",
    response_model=LookalikeList,
    responses=error_responses(404, 409),
    dependencies=[requires("discovery:read")],
)
async def lookalikes(
    creator_id: uuid.UUID, query: Annotated[LookalikeQuery, Query()], session: Session
) -> Response:
    """Creators most like this one by what they post (`content`), by who follows them (`audience`) or
    both, narrowed by any search filter. 409 while the creator has no embedding or audience data yet."""
    items = await service.lookalikes(session, creator_id, query.basis, conditions(query), query.limit)
    return model_response(LookalikeList(creator_id=creator_id, basis=query.basis, items=items))
