"""What every service's OpenAPI document says about errors, so it matches what the API sends.

FastAPI documents its own `{detail: [{loc, msg, type}]}` for a 422 and nothing else; every
Limelight error is `{"error": ..., "detail": ...}` (shared/errors.py). The generated document is
post-processed once per app, so every operation, including routes added later, gets:

- 422 `InvalidRequestBody` when it takes any input (parameters or a body);
- 400 `ErrorBody` when it takes a body (FastAPI refuses a body it cannot parse with a 400);
- 404 `ErrorBody` when its path names a resource;
- 503 `ErrorBody` (the database is unavailable);
- 401 `ErrorBody` with its `WWW-Authenticate` challenge, and 403 `ErrorBody`, when it needs a
  scope (every route that is not `public()`), and `x-limelight-scope`: the scope it declared
  with `shared.identity.requires` (or `public`), so the gateway's scope table and reference
  read it from the document instead of guessing from the method;
- and whatever a route declares itself with `responses=error_responses(409, ...)`.

The gateway's merged reference adds 429 (`RATE_LIMITED`) and its public security schemes.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from shared.identity import PUBLIC, api_routes, declared_scope

SCHEMAS = "#/components/schemas/"

# The schemas FastAPI publishes for its own 422 body, which no Limelight service sends.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

# The operation's declared scope (or `public`), written from the route's own declaration.
SCOPE_EXTENSION = "x-limelight-scope"
HTTP_METHODS = frozenset({"get", "put", "post", "patch", "delete", "head", "options", "trace"})

DESCRIPTIONS = {
    400: "The request cannot be processed as sent.",
    401: "Missing, malformed, unknown, expired or revoked credentials. `WWW-Authenticate` names the scheme "
    "(`Bearer`) and why.",
    403: "The credential is valid but lacks the scope this operation needs (`detail` names it).",
    404: "No such resource (or not visible to you).",
    409: "Conflicts with the current state of the resource.",
    422: "Invalid input; `detail` names each field and the reason.",
    429: "Too many requests for this API key (or, on public routes, this client address). Wait "
    "`Retry-After` seconds; the `RateLimit-*` headers say where the limit stands.",
    503: "Temporarily unavailable (for example the database); retry later.",
}


class FieldError(BaseModel):
    field: str = Field(description="Where the value came from and its name, e.g. `body.handle`, `query.cursor`.")
    reason: str


class ErrorBody(BaseModel):
    """Every error response: a stable machine-readable code and details for a human."""

    error: str = Field(description="Stable error code, e.g. `not_found`, `conflict`.")
    detail: Any = Field(description="A message, or a list of `FieldError` where fields are at fault.")


class InvalidRequestBody(BaseModel):
    """A 422: each offending field and why."""

    error: str = Field(description="`invalid_request`.")
    detail: list[FieldError]


def _component_schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(m, "serialization") for m in (ErrorBody, InvalidRequestBody)], ref_template=SCHEMAS + "{model}"
    )
    return top["$defs"]


def _header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "schema": schema}


HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": _header(
            'The challenge (RFC 6750), e.g. `Bearer realm="limelight", error="invalid_token", '
            'error_description="this API key was revoked"`.',
            {"type": "string"},
        )
    },
    429: {
        "Retry-After": _header("Seconds to wait before retrying.", {"type": "integer", "minimum": 0}),
        "RateLimit-Limit": _header("Requests allowed in the current window.", {"type": "integer", "minimum": 0}),
        "RateLimit-Remaining": _header("Requests left in the current window.", {"type": "integer", "minimum": 0}),
        "RateLimit-Reset": _header("Seconds until the window resets.", {"type": "integer", "minimum": 0}),
    },
}


def _response(status: int, schema: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": SCHEMAS + schema}}},
    }
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def operations(document: dict[str, Any]):
    """Every (path, method, operation) of a document."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS and isinstance(operation, dict):
                yield path, method, operation


def operation_scope(operation: dict[str, Any]) -> str | None:
    """The scope an operation needs, or None for a public one.

    From `x-limelight-scope` when present, else from its security requirement: every route
    declares one or the other (`check_routes_declare_scopes`), and `public()` is the only
    declaration that leaves no security requirement, so no requirement means public.
    """
    scope = operation.get(SCOPE_EXTENSION)
    if scope is None:
        for requirement in operation.get("security") or []:
            for scopes in requirement.values():
                if scopes:
                    scope = scopes[0]
                    break
            if scope is not None:
                break
    return None if scope in (None, PUBLIC) else scope


def declare_scopes(document: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    """Write each documented route's declared scope into its operations as `x-limelight-scope`."""
    for route in api_routes(routes):
        if not route.include_in_schema:
            continue
        scope = declared_scope(route)
        item = document.get("paths", {}).get(route.path_format, {})
        for method in route.methods:
            operation = item.get(method.lower())
            if scope is not None and isinstance(operation, dict):
                operation[SCOPE_EXTENSION] = scope
    return document


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can also fail with these statuses (e.g. 409 on a unique name)."""
    return {status: {"model": ErrorBody, "description": DESCRIPTIONS[status]} for status in statuses}


def with_error_responses(document: dict[str, Any], *, rate_limited: bool = False) -> dict[str, Any]:
    """Document the project's error bodies on every operation of a generated OpenAPI document.

    `rate_limited`: the document is the gateway's, where every operation can answer 429.
    """
    for _, _, operation in operations(document):
        if "responses" in operation:
            responses = operation["responses"]
            parameters = operation.get("parameters", [])
            if parameters or "requestBody" in operation or "422" in responses:
                responses["422"] = _response(422, "InvalidRequestBody")
            if "requestBody" in operation:
                responses.setdefault("400", _response(400, "ErrorBody"))
            if any(p.get("in") == "path" for p in parameters):
                responses.setdefault("404", _response(404, "ErrorBody"))
            responses.setdefault("503", _response(503, "ErrorBody"))
            if operation_scope(operation) is not None:
                responses.setdefault("401", _response(401, "ErrorBody"))
                responses.setdefault("403", _response(403, "ErrorBody"))
            if rate_limited:
                responses.setdefault("429", _response(429, "ErrorBody"))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(_component_schemas())
    return document


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` return its document with the project's error responses."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_responses(declare_scopes(generate(), app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
