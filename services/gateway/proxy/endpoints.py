"""The proxy's place in the FastAPI URL map: only the answer for a service that does not exist.

Requests for a known service never reach FastAPI's router: `services.gateway.proxy.edge.Proxy`
answers them as the innermost edge layer (docs/decisions/0016-gateway-fast-path.md).
"""

from fastapi import APIRouter, Request

from shared.errors import NotFound
from shared.identity import public

router = APIRouter()

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# The proxy's route template: the metrics label of every proxied request.
PROXY_ROUTE = "/v1/{upstream}/{path:path}"


# public(): it only ever answers 404, and the edge has authenticated the caller before it.
@router.api_route(PROXY_ROUTE, methods=METHODS, include_in_schema=False, dependencies=[public()])
async def unknown_service(upstream: str, request: Request):
    """Everything under /v1/<service>/ is passed to that service; this answers the other names."""
    raise NotFound(f"no service named '{upstream}'; try one of {sorted(request.app.state.routes)}")
