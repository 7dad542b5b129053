"""JSON logs carrying the correlation id, the correlation-id middleware, and Prometheus metrics.

The correlation id travels HTTP header -> contextvar -> event envelope -> contextvar of the
consumer that handles it -> envelopes it causes, so one user action can be followed across
services in the logs.
"""

import logging
import sys
import time
import uuid
from contextvars import ContextVar

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORRELATION_HEADER = "X-Correlation-ID"
REQUEST_ID_HEADER = "X-Request-ID"

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"]
)


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def set_correlation_id(value: str | None):
    """Set the id for the current context; returns a token for `reset_correlation_id`."""
    return _correlation_id.set(value)


def reset_correlation_id(token) -> None:
    _correlation_id.reset(token)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


class _CorrelationFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = getattr(record, "correlation_id", None) or _correlation_id.get()
        record.service = self.service
        return True


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (test runners swap it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(service: str, level: str = "INFO") -> None:
    """One JSON object per line on stdout, for every logger (uvicorn's included)."""
    handler = _StdoutHandler()
    handler.addFilter(_CorrelationFilter(service))
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # aiokafka is chatty at INFO (group joins, fetch details); its warnings and errors stay.
    logging.getLogger("aiokafka").setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)


def _valid_incoming_id(value: str | None) -> str | None:
    # Accept a caller's id only when it is short and printable, so it is safe to log and echo.
    if value and len(value) <= 128 and value.isprintable() and " " not in value:
        return value
    return None


class CorrelationMiddleware:
    """Pure ASGI middleware (no body buffering, so streamed responses stay streamed)."""

    def __init__(self, app: ASGIApp, service: str):
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cid = _valid_incoming_id(request.headers.get(CORRELATION_HEADER)) or _valid_incoming_id(
            request.headers.get(REQUEST_ID_HEADER)
        ) or new_correlation_id()
        token = _correlation_id.set(cid)
        scope.setdefault("state", {})["correlation_id"] = cid
        started = time.perf_counter()
        # 499 (the client closed the request) unless a response starts or an exception escapes.
        status_holder = {"status": 499}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((CORRELATION_HEADER.lower().encode(), cid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            if status_holder["status"] == 499:
                status_holder["status"] = 500
            raise
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            HTTP_REQUESTS.labels(self.service, request.method, template, str(status_holder["status"])).inc()
            HTTP_LATENCY.labels(self.service, request.method, template).observe(time.perf_counter() - started)
            _correlation_id.reset(token)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
