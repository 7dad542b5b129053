"""The gateway's door: every request outside the public paths must carry a credential.

A pure ASGI layer (no per-request task or body wrapping): it authenticates, and leaves the
verified identity in the request state where `shared.identity.current_identity` and the proxy
find it. Clients can never write there.
"""

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.errors import LimelightError, Unauthorized, Unavailable, database_unavailable, error_body
from shared.identity import set_identity

# Open without credentials: probes, the reference, the click redirect, the creators' shared audit
# views (their token is the credential) and partner webhooks (which carry their own signatures).
PUBLIC_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/asyncapi.json"}
)
PUBLIC_PREFIXES = ("/r/", "/shared/", "/webhooks/")


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class Authenticate:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        sent = [value for name, value in scope["headers"] if name == b"authorization"]
        authorization = sent[0].decode("latin-1") if sent else None
        # This layer runs outside the app's exception handlers: what it refuses, it answers here.
        try:
            if len(sent) > 1:
                # A singleton field (RFC 9110 section 11.6.2): with two, which one a proxy or a
                # service would read is anyone's guess, so neither is.
                raise Unauthorized("send one Authorization header, not several", error="invalid_request")
            identity = await scope["app"].state.authenticator.authenticate(authorization)
        except LimelightError as exc:  # 401; 503 when a JWKS endpoint cannot be reached
            await _refusal(exc)(scope, receive, send)
            return
        except (DBAPIError, PoolTimeout) as exc:
            if not database_unavailable(exc):
                raise
            await _refusal(Unavailable("the credential store is unavailable; retry shortly"))(scope, receive, send)
            return
        set_identity(scope, identity)
        await self.app(scope, receive, send)


def _refusal(exc: LimelightError) -> JSONResponse:
    headers = dict(exc.headers or {})
    if isinstance(exc, Unavailable):
        headers.setdefault("Retry-After", str(exc.retry_after_seconds))
    return JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status_code, headers=headers or None)
