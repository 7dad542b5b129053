"""The proxy as a pure ASGI layer: `/v1/<service>/...` for a service in the route table.

It runs as the innermost `edge` layer, so everything in front of it still runs for every
proxied request (correlation id, unhandled-error handling, authentication, and whatever the
gateway adds there, like rate limits), and nothing after it does: no route matching through
the whole URL map, no dependency resolution, no framework request or response objects. On a
small read that was about a third of the gateway's own time (docs/decisions/0016).
"""

import dataclasses
from types import SimpleNamespace

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.proxy.endpoints import METHODS, PROXY_ROUTE
from services.gateway.proxy.service import forward, upstream_path
from services.gateway.routes import PUBLIC_FORWARDS, Route
from shared.errors import Forbidden, LimelightError, NotFound, Unauthorized, error_body
from shared.identity import identity_of
from shared.observability import current_correlation_id

_METHODS = frozenset(METHODS)
# What the correlation middleware reads to label the request's metrics (`scope["route"].path`),
# as FastAPI's route object would for the same template.
_ROUTE = SimpleNamespace(path=PROXY_ROUTE)
# The public paths a service serves for the gateway's root (`/shared/...`): one door for them, the
# public one, so a token-carrying path is never also a credentialed one. Upstream-relative.
_FORWARDED_PUBLICLY = {service: prefix.lstrip("/") for prefix, service in PUBLIC_FORWARDS.items()}


def scope_needed(state, route: Route, method: str, path: str) -> str | None:
    """The one place the scope a proxied request needs is decided.

    `path` is the canonical upstream path (no leading slash). The scope the service's own
    document declares for the operation (services/gateway/scopes.py); the route's default
    (`<family>:read` for safe methods, `<family>:write` for the rest) while that document is
    unknown; None for an operation the service declares public (the caller is still
    authenticated: only the gateway's own public paths are open).
    """
    return state.scopes.needed(route, method, "/" + path)


class Proxy:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._route(scope)
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _ROUTE
        state = scope["app"].state
        try:
            response = await self._proxy(state, route, scope, receive)
        except LimelightError as exc:
            response = JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status_code, headers=exc.headers)
        await response(scope, receive, send)

    @staticmethod
    def _route(scope: Scope) -> Route | None:
        """The upstream route of a proxied request, or None for anything else (FastAPI's)."""
        if scope["type"] != "http" or scope["method"] not in _METHODS:
            return None
        parts = scope["path"].split("/", 3)
        if len(parts) < 4 or parts[1] != "v1":
            return None
        return scope["app"].state.routes.get(parts[2])

    @staticmethod
    async def _proxy(state, route: Route, scope: Scope, receive: Receive):
        identity = identity_of(scope)
        if identity is None:  # the edge lets no unauthenticated request this far; fail closed anyway
            raise Unauthorized("missing credentials")
        path = upstream_path(scope.get("raw_path") or scope["path"].encode())
        if route.service in _FORWARDED_PUBLICLY and path.startswith(_FORWARDED_PUBLICLY[route.service]):
            raise NotFound(f"/{path.split('/', 1)[0]}/ is served at the gateway's root, not under {route.prefix}")
        needed = scope_needed(state, route, scope["method"], path)
        if needed is not None and not identity.has(needed):
            raise Forbidden(f"this credential lacks the '{needed}' scope")
        bulk_timeout = state.bulk_timeouts.get(scope["path"])
        if bulk_timeout is not None and bulk_timeout > route.timeout:  # a bulk body takes longer to answer
            route = dataclasses.replace(route, timeout=bulk_timeout)
        elif state.slow_routes is not None and state.slow_timeout > route.timeout and state.slow_routes.fullmatch(scope["path"]):
            route = dataclasses.replace(route, timeout=state.slow_timeout)  # e.g. a report printed to PDF
        token = state.signer.token(dataclasses.replace(identity, request_id=current_correlation_id()), audience=route.service)
        return await forward(
            state.upstreams, route, state.routes, scope, receive, path=path, identity_token=token
        )
