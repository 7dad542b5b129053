"""A 405 whose `Allow` lists every method the resource supports (RFC 9110 section 15.5.6), and
a documented route's refusal of a query parameter it does not take.

Starlette answers a 405 with the methods of the first route whose path matched, so a resource
served by two routes (GET and PATCH on `/creators/{id}`) advertised only one of them.
"""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

from shared import idempotency
from shared.errors import Invalid, error_body
from shared.identity import PUBLIC, declared_scope


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


# --- A documented route refuses a query parameter it does not take --------------------------------
# Most routes read their query through FastAPI's parameters, which ignore a name they do not know:
# a misspelt filter (`creater_id`) answered with the unfiltered list instead of an error. The
# public routes are left alone: a shopper's click may carry any tracking parameter (`fbclid`).

# By the route's id, the route kept beside its names so that the id cannot be reused by another.
_QUERY_NAMES: dict[int, tuple[object, frozenset[str]]] = {}
_SHOWN = 100  # characters of an unknown name quoted back


def query_names(dependant) -> frozenset[str]:
    """The query parameters a route's dependant reads, a pydantic model's fields one by one (as
    the OpenAPI document lists them), through its dependencies."""
    names: set[str] = set()
    for field in dependant.query_params:
        annotation = getattr(field.field_info, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {info.alias or name for name, info in annotation.model_fields.items()}
            if annotation.model_config.get("populate_by_name") or annotation.model_config.get("validate_by_name"):
                names |= set(annotation.model_fields)  # `from_` as well as its alias `from`
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= query_names(sub)
    return frozenset(names)


async def known_query_only(request: Request) -> None:
    """A router-level dependency: 422 naming `query.<name>` for a name the route does not take,
    and naming `header.Idempotency-Key` on a PATCH, PUT or DELETE, which never honours one (a
    PATCH repeated with the key after another change would set the old values again, the key
    promising otherwise)."""
    # A POST that does not honour the key answers as without it (a client may send one with every
    # POST); any other method never honours one.
    keyed = request.method not in ("POST", "GET", "HEAD") and idempotency.HEADER in request.headers
    if not request.scope.get("query_string") and not keyed:
        return
    route = request.scope.get("route")
    if route is None or not getattr(route, "include_in_schema", False) or declared_scope(route) == PUBLIC:
        return
    if keyed and not idempotency.takes_key(route.dependant):
        raise Invalid(idempotency.FIELD, f"a {request.method} does not take an Idempotency-Key (the POST routes "
                                         "that create something do); send the request without it")
    cached = _QUERY_NAMES.get(id(route))
    if cached is None or cached[0] is not route:
        cached = _QUERY_NAMES[id(route)] = (route, query_names(route.dependant))
    known = cached[1]
    for name in request.query_params.keys():
        if name not in known:
            takes = ", ".join(sorted(known)) or "none"
            raise Invalid(f"query.{name[:_SHOWN]}", f"not a query parameter of this route (it takes: {takes})")
