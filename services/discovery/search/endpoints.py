from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from services.discovery.search import mentions as brand_mentions
from services.discovery.search import service
from services.discovery.search.schemas import MentionPage, MentionsQuery, SearchRequest, SearchResult
from shared.app import model_response
from shared.db import ReadSession
from shared.identity import requires

router = APIRouter()
mentions_router = APIRouter()


@router.post("", response_model=SearchResult, dependencies=[requires("discovery:read")])
async def search(body: SearchRequest, session: ReadSession) -> Response:
    """Find creators by filters and free text, sorted by relevance or a figure, a cursor page at a
    time; with `facets: true` also counts of the matches by tier, platform, country and language."""
    return model_response(await service.search(session, body))


@mentions_router.get("", response_model=MentionPage, dependencies=[requires("discovery:read")])
async def list_mentions(query: Annotated[MentionsQuery, Query()], session: ReadSession) -> Response:
    """Creators who mentioned a brand handle or used a hashtag in a period, with their counts and
    latest matching posts; `sponsored=true` shows which creators a brand (or a competitor) pays."""
    return model_response(await brand_mentions.mentions(session, query))
