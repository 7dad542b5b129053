"""One error hierarchy, rendered by one handler as `{"error": ..., "detail": ...}`.

An expected business outcome is a `LimelightError` subclass with its own status code; a
database that cannot be reached is `Unavailable` (503); only a bug reaches the 500 handler.
Every failed request is logged once: a 503 as one short warning, a 500 with its traceback.
"""

import logging
import math
from typing import Any

import asyncpg.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.messaging.failures import UNAVAILABLE, failure_kind
from shared.observability import current_correlation_id, loggable_path
from shared.validation import FieldError

log = logging.getLogger(__name__)


class LimelightError(Exception):
    status_code = 400
    error = "bad_request"

    def __init__(self, detail: Any = None, *, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class Invalid(LimelightError):
    status_code = 422
    error = "invalid_request"

    def __init__(self, field: str, reason: str):
        super().__init__([{"field": field, "reason": reason}])


class Unauthorized(LimelightError):
    """No credentials, or credentials that are malformed, unknown, expired or revoked. RFC 9110
    section 11.6.1: a 401 names the scheme the client should use."""

    status_code = 401
    error = "unauthorized"

    def __init__(self, detail: Any = None, *, scheme: str = "Bearer", error: str = "invalid_token"):
        reason = str(detail).replace('"', "'") if detail else ""
        challenge = f'{scheme} realm="limelight", error="{error}"' + (f', error_description="{reason}"' if reason else "")
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


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
    retry_after_seconds = 5


# What the server or the network did to a connection, as opposed to what our SQL did.
_CONNECTION_LOST = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    ConnectionError,
)


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database could not be reached, not that a statement was wrong."""
    if isinstance(exc, sa_exc.TimeoutError):  # every pooled connection busy for pool_timeout
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        # The consumers' rule, so both sides agree: read-only after a failover, out of resources
        # or shutting down is unavailable too (shared/messaging/failures.py).
        return (
            failure_kind(exc) == UNAVAILABLE
            or isinstance(getattr(exc.orig, "__cause__", None), _CONNECTION_LOST)
        )
    return False


def error_body(error: str, detail: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail}


def _field_path(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes the location with where the value came from ("body", "query", ...).
    return ".".join(str(part) for part in loc)


def validation_detail(exc: RequestValidationError) -> list[dict[str, str]]:
    return [_detail(e) for e in exc.errors()]


def _detail(error: dict[str, Any]) -> dict[str, str]:
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, FieldError):
        return {"field": _field_path((*tuple(error["loc"]), cause.field)), "reason": cause.reason}
    return {"field": _field_path(tuple(error["loc"])), "reason": _reason(error, ctx)}


# A bound's error for what is no number to bound: NaN or an infinity, however it was written.
_BOUNDS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})
_NOT_FINITE = frozenset({"nan", "inf", "infinity"})


def reason_of(error: dict[str, Any]) -> str:
    """The reason a 422 gives for one of pydantic's errors (`errors()` with their inputs)."""
    return _reason(error, error.get("ctx") or {})


def _reason(error: dict[str, Any], ctx: dict[str, Any]) -> str:
    # NaN or an infinity against a bound: pydantic says the bound ("less than or equal to 100"),
    # which NaN is not out of; say what is wrong with it.
    sent = error.get("input")
    if isinstance(sent, float) and not math.isfinite(sent) or (
            isinstance(sent, str) and error["type"] in _BOUNDS and sent.strip().lower().lstrip("+-") in _NOT_FINITE):
        return "Input should be a finite number"
    # A length bound on text with a validator of its own (PlainText, a pattern) is checked by
    # pydantic's generic length rule, which speaks of "items": say what its own text rule says.
    if error["type"] in ("too_long", "too_short") and isinstance(error.get("input"), str):
        if error["type"] == "too_long":
            return f"String should have at most {ctx['max_length']} characters"
        return f"String should have at least {ctx['min_length']} characters"
    return error["msg"]


def _error_response(exc: LimelightError) -> JSONResponse:
    headers = dict(exc.headers or {})
    if isinstance(exc, Unavailable):
        headers.setdefault("Retry-After", str(exc.retry_after_seconds))
    return JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status_code, headers=headers or None)


def _limelight_response(exc: LimelightError, path: str | None) -> JSONResponse:
    if exc.status_code >= 500:
        cause = exc.__cause__ or exc.__context__
        log.warning(
            "request failed: %s", exc.error,
            extra={"path": loggable_path(path), "cause": type(cause).__name__ if cause else None},
        )
    return _error_response(exc)


def _database_response(exc: Exception, path: str | None) -> JSONResponse:
    if not database_unavailable(exc):
        return _internal_error(exc)
    # The driver's message can name the server, the role or the DSN: only its type is logged.
    log.warning("request failed: database unavailable", extra={"path": loggable_path(path), "cause": type(exc).__name__})
    return _error_response(Unavailable("the database is unavailable; retry shortly"))


def error_response(exc: Exception, path: str | None) -> JSONResponse:
    """The answer the app's handlers give to `exc`, for what raises outside FastAPI's routing
    (an `edge` layer such as attribution's click redirect): a `LimelightError` as itself, a
    database that cannot be reached as a 503, anything else as the 500 of a bug."""
    if isinstance(exc, LimelightError):
        return _limelight_response(exc, path)
    if isinstance(exc, (sa_exc.DBAPIError, sa_exc.TimeoutError)):
        return _database_response(exc, path)
    return _internal_error(exc)


async def _limelight_error(request: Request, exc: LimelightError) -> JSONResponse:
    return _limelight_response(exc, request.url.path)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    return _database_response(exc, request.url.path)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(error_body("invalid_request", validation_detail(exc)), status_code=422)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    names = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
    return JSONResponse(
        error_body(names.get(exc.status_code, "http_error"), exc.detail),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def _internal_error(exc: BaseException) -> JSONResponse:
    cid = current_correlation_id()
    log.error("unhandled error", exc_info=exc)
    return JSONResponse(error_body("internal_error", f"unexpected error; quote correlation id {cid}"), status_code=500)


class UnhandledErrorMiddleware:
    """The 500 handler, as pure ASGI middleware inside the correlation middleware.

    Starlette's own `Exception` handler answers and then re-raises so that the server logs
    the traceback a second time; this one answers, logs once and swallows. A client that
    hung up before its request body arrived is not an error of ours and gets no answer. What
    an `edge` layer raises (it runs outside FastAPI's handlers) is answered as those would
    answer it (`error_response`): a database that is down is a 503 there too.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            log.info("client disconnected before its request was read", extra={"path": loggable_path(scope.get("path"))})
        except Exception as exc:
            if response_started:
                # Too late for an error body: the status line is on the wire. The server
                # closes the connection when this call returns without finishing.
                log.error("unhandled error after the response started", exc_info=exc)
                return
            # Raised outside FastAPI's handlers (an edge layer): answered as they would.
            await error_response(exc, scope.get("path"))(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Handlers for the exceptions a request may raise; the caller adds `UnhandledErrorMiddleware`
    inside its correlation middleware so the 500 line carries the request's correlation id."""
    app.add_exception_handler(LimelightError, _limelight_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa_exc.DBAPIError, _database_error)
    app.add_exception_handler(sa_exc.TimeoutError, _database_error)
