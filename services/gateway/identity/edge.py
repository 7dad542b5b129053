"""The gateway's door: every request outside the public paths must carry a credential.

A pure ASGI layer (no per-request task or body wrapping): it authenticates, and leaves the
verified identity in the request state where `shared.identity.current_identity` and the proxy
find it. Clients can never write there.
"""

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.errors import Unauthorized, error_body
from shared.identity import set_identity

# Open without credentials: probes, the reference, the click redirect and partner webhooks
# (which carry their own signatures).
PUBLIC_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/asyncapi.json"}
)
PUBLIC_PREFIXES = ("/r/", "/webhooks/")


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class Authenticate:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        try:
            identity = await scope["app"].state.authenticator.authenticate(authorization)
        except Unauthorized as exc:
            response = JSONResponse(error_body(exc.error, exc.detail), status_code=401, headers=exc.headers)
            await response(scope, receive, send)
            return
        set_identity(scope, identity)
        await self.app(scope, receive, send)
