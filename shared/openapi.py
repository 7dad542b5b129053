"""What every service's OpenAPI document says about errors, so it matches what the API sends.

FastAPI documents its own `{detail: [{loc, msg, type}]}` for a 422 and nothing else; every
Limelight error is `{"error": ..., "detail": ...}` (shared/errors.py). The generated document is
post-processed once per app, so every operation, including routes added later, gets:

- 422 `InvalidRequestBody` when it takes any input (parameters or a body);
- 400 `ErrorBody` when it takes a body (FastAPI refuses a body it cannot parse with a 400);
- 404 `ErrorBody` when its path names a resource;
- 503 `ErrorBody` (the database is unavailable);
- and whatever a route declares itself with `responses=error_responses(409, ...)`.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

SCHEMAS = "#/components/schemas/"

# The schemas FastAPI publishes for its own 422 body, which no Limelight service sends.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

DESCRIPTIONS = {
    400: "The request cannot be processed as sent.",
    404: "No such resource (or not visible to you).",
    409: "Conflicts with the current state of the resource.",
    422: "Invalid input; `detail` names each field and the reason.",
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


def _response(status: int, schema: str) -> dict[str, Any]:
    return {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": {"$ref": SCHEMAS + schema}}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can also fail with these statuses (e.g. 409 on a unique name)."""
    return {status: {"model": ErrorBody, "description": DESCRIPTIONS[status]} for status in statuses}


def with_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Document the project's error bodies on every operation of a generated OpenAPI document."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            parameters = operation.get("parameters", [])
            if parameters or "requestBody" in operation or "422" in responses:
                responses["422"] = _response(422, "InvalidRequestBody")
            if "requestBody" in operation:
                responses.setdefault("400", _response(400, "ErrorBody"))
            if any(p.get("in") == "path" for p in parameters):
                responses.setdefault("404", _response(404, "ErrorBody"))
            responses.setdefault("503", _response(503, "ErrorBody"))
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
            app.openapi_schema = with_error_responses(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
