"""One error hierarchy, rendered by one handler as `{"error": ..., "detail": ...}`.

An expected business outcome is a `LimelightError` subclass with its own status code; only a
bug reaches the 500 handler.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.observability import CORRELATION_HEADER, current_correlation_id

log = logging.getLogger(__name__)


class LimelightError(Exception):
    status_code = 400
    error = "bad_request"

    def __init__(self, detail: Any = None):
        super().__init__(detail)
        self.detail = detail


class Invalid(LimelightError):
    status_code = 422
    error = "invalid_request"

    def __init__(self, field: str, reason: str):
        super().__init__([{"field": field, "reason": reason}])


class Unauthorized(LimelightError):
    status_code = 401
    error = "unauthorized"


class Forbidden(LimelightError):
    status_code = 403
    error = "forbidden"


class NotFound(LimelightError):
    status_code = 404
    error = "not_found"


class Conflict(LimelightError):
    status_code = 409
    error = "conflict"


class Unavailable(LimelightError):
    status_code = 503
    error = "unavailable"


def error_body(error: str, detail: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail}


def _field_path(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes the location with where the value came from ("body", "query", ...).
    return ".".join(str(part) for part in loc)


def validation_detail(exc: RequestValidationError) -> list[dict[str, str]]:
    return [{"field": _field_path(tuple(e["loc"])), "reason": e["msg"]} for e in exc.errors()]


async def _limelight_error(_: Request, exc: LimelightError) -> JSONResponse:
    return JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status_code)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(error_body("invalid_request", validation_detail(exc)), status_code=422)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    names = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
    return JSONResponse(
        error_body(names.get(exc.status_code, "http_error"), exc.detail),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    cid = getattr(request.state, "correlation_id", None) or current_correlation_id()
    log.exception("unhandled error", exc_info=exc, extra={"correlation_id": cid})
    return JSONResponse(
        error_body("internal_error", f"unexpected error; quote correlation id {cid}"),
        status_code=500,
        headers={CORRELATION_HEADER: cid} if cid else None,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LimelightError, _limelight_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
