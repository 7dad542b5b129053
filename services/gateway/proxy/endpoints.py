from fastapi import APIRouter, Request

import dataclasses

from services.gateway.proxy import service
from shared.errors import Forbidden, NotFound, Unauthorized
from shared.identity import identity_of
from shared.observability import current_correlation_id

router = APIRouter()

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route("/v1/{upstream}/{path:path}", methods=METHODS, include_in_schema=False)
async def proxy(upstream: str, path: str, request: Request):
    """Everything under /v1/<service>/ is passed to that service."""
    route = request.app.state.routes.get(upstream)
    if route is None:
        raise NotFound(f"no service named '{upstream}'; try one of {sorted(request.app.state.routes)}")
    identity = identity_of(request.scope)
    if identity is None:  # the edge lets no unauthenticated request this far; fail closed anyway
        raise Unauthorized("missing credentials")
    needed = request.app.state.scopes.needed(route, request.method, "/" + path)
    if needed is not None and not identity.has(needed):
        raise Forbidden(f"this credential lacks the '{needed}' scope")
    token = request.app.state.signer.token(
        dataclasses.replace(identity, request_id=current_correlation_id()), audience=route.service
    )
    return await service.forward(request.app.state.http, route, request, request.app.state.routes, identity_token=token)
