"""A 405 whose `Allow` lists every method the resource supports (RFC 9110 section 15.5.6).

Starlette answers a 405 with the methods of the first route whose path matched, so a resource
served by two routes (GET and PATCH on `/creators/{id}`) advertised only one of them.
"""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from shared.errors import error_body


# The methods a route can serve; each is tried against the route table as if the client had sent it.
METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    # Asking each route whether it fully matches (public BaseRoute API) works however routers are
    # nested; FastAPI no longer flattens included routers into one list.
    return [
        method
        for method in METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in app.router.routes)
    ]


async def _method_not_allowed(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse(
        error_body("method_not_allowed", exc.detail),
        status_code=405,
        headers={**(exc.headers or {}), "Allow": ", ".join(allowed_methods(request.app, request))},
    )


def complete_allow_header(app: FastAPI) -> None:
    # A status-code handler takes precedence over the HTTPException handler of shared/errors.py.
    app.add_exception_handler(405, _method_not_allowed)
