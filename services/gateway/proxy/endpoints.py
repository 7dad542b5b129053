from fastapi import APIRouter, Request

from services.gateway.proxy import service
from shared.errors import NotFound

router = APIRouter()

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route("/v1/{upstream}/{path:path}", methods=METHODS, include_in_schema=False)
async def proxy(upstream: str, path: str, request: Request):
    """Everything under /v1/<service>/ is passed to that service."""
    route = request.app.state.routes.get(upstream)
    if route is None:
        raise NotFound(f"no service named '{upstream}'; try one of {sorted(request.app.state.routes)}")
    return await service.forward(request.app.state.http, route, request, request.app.state.routes)
