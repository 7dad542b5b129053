"""JSON logs carrying the correlation id, the correlation-id middleware, and Prometheus metrics.

The correlation id travels HTTP header -> contextvar -> event envelope -> contextvar of the
consumer that handles it -> envelopes it causes, so one user action can be followed across
services in the logs.
"""

import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from logging.handlers import RotatingFileHandler
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from pythonjsonlogger.json import JsonFormatter
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


# Paths that carry a secret (a share link's token: docs/decisions/0043), as the gateway sees them
# and as the audit service does. Whatever logs a request path logs `loggable_path(path)`.
_SECRET_PATHS = re.compile(r"^((?:/v1/audit)?/shared/audits/)[^/?#]+")


def loggable_path(path: str | None) -> str | None:
    """`path` with any secret segment replaced by `{token}`: safe to write to a log."""
    return path if path is None else _SECRET_PATHS.sub(r"\1{token}", path)


class _RedactAccessPaths(logging.Filter):
    """uvicorn's access log line (when an operator turns it on) with secret path segments
    redacted: its arguments are (client, method, path with query, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], loggable_path(args[2]), *args[3:])
        return True


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


class LoggingSettings(BaseSettings):
    """Where a service writes its log. `limelight up` sets these; a container leaves them unset."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    log_file: Path | None = Field(default=None, description="Write the log here, rotated, instead of stdout.")
    log_file_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="Rotate past this size.")
    log_file_backups: int = Field(default=3, ge=1, le=100, description="Rotated files kept.")
    log_repeat_interval_seconds: float = Field(
        default=60.0, gt=0, description="A repeated warning or error is written once per this interval."
    )


_OWN_PACKAGES = frozenset({"shared", "services", "runtime"})


class RepeatFilter(logging.Filter):
    """Lets the first of a repeated warning or error through, then at most one per `interval`
    carrying how many were suppressed since (`suppressed`), per logger and message template.

    A broker outage makes aiokafka log the same connection error thousands of times a minute;
    the first line says what happened, the periodic one says it is still happening.
    """

    _MAX_KEYS = 1000

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], list] = {}  # key -> [window start, suppressed count]

    def filter(self, record: logging.LogRecord) -> bool:
        # Our own code's records always pass: its retries back off, so it cannot flood, and each
        # record is an event someone looks for (a parked outbox row; a 500 whose correlation id
        # the client was told to quote). The floods come from libraries (aiokafka, asyncpg).
        if record.levelno < logging.WARNING or record.name.partition(".")[0] in _OWN_PACKAGES:
            return True
        key = (record.name, str(record.msg))
        now = self.clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window[0] >= self.interval:
                if window is not None and window[1]:
                    record.suppressed = window[1]
                    record.suppressed_seconds = round(now - window[0], 1)
                self._forget_stale(now)
                self._windows[key] = [now, 0]
                return True
            window[1] += 1
            return False

    def _forget_stale(self, now: float) -> None:
        if len(self._windows) < self._MAX_KEYS:
            return
        for key in [k for k, (start, count) in self._windows.items() if now - start >= self.interval and not count]:
            del self._windows[key]


class SizeRotatingFileHandler(RotatingFileHandler):
    """RotatingFileHandler that counts what it writes instead of asking the file: the standard one
    checks, for every record, that the path is a regular file (two stat calls), seeks to the end
    and formats the record twice (once to measure it) — a tenth of the gateway's time per
    accepted webhook. The size is read once per opened file; this process is the log's only
    writer (docs/decisions/0007), so the count stays true between rotations. Not for a file that
    something else truncates or appends to (logrotate's copytruncate, a second writer): it would
    rotate early or late."""

    def __init__(self, filename, **kwargs):
        super().__init__(filename, **kwargs)
        # As the standard handler: never rotate what is not a regular file (bpo-45401).
        self._regular = not os.path.exists(self.baseFilename) or os.path.isfile(self.baseFilename)
        self._size: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record) + self.terminator
            if self.stream is None:
                self.stream = self._open()
                self._size = None
            if self._size is None:
                self._size = self.stream.seek(0, os.SEEK_END)
            if self.maxBytes > 0 and self._regular and self._size + len(text) >= self.maxBytes:
                self.doRollover()
                if self.stream is None:
                    self.stream = self._open()
                self._size = self.stream.seek(0, os.SEEK_END)
            self.stream.write(text)
            self.flush()
            # What the file grew by, in bytes as seek reports them (the check above adds
            # characters, as the standard handler's does)
            self._size += len(text) if text.isascii() else len(text.encode(self.stream.encoding, self.stream.errors))
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def _handler(settings: LoggingSettings) -> logging.Handler:
    if settings.log_file is None:
        return _StdoutHandler()
    settings.log_file.parent.mkdir(parents=True, exist_ok=True)
    return SizeRotatingFileHandler(
        settings.log_file, maxBytes=settings.log_file_max_bytes, backupCount=settings.log_file_backups, encoding="utf-8"
    )


def configure_logging(service: str, level: str = "INFO") -> None:
    """One JSON object per line, for every logger (uvicorn's included), on stdout or, when
    LOG_FILE is set, in that file rotated by size. Repeated warnings and errors are thinned."""
    settings = LoggingSettings()
    handler = _handler(settings)
    handler.addFilter(_CorrelationFilter(service))
    handler.addFilter(_RedactAccessPaths())
    handler.addFilter(RepeatFilter(settings.log_repeat_interval_seconds))
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    access = logging.getLogger("uvicorn.access")
    # `uvicorn --no-access-log` leaves this logger without handlers and not propagating, and
    # uvicorn decides per connection from `hasHandlers()`; routing it to the root would undo it.
    access_disabled = not access.handlers and not access.propagate
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    if access_disabled:
        access.propagate = False
    quiet = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    # aiokafka is chatty at INFO (group joins, fetch details); httpx logs every request the
    # gateway proxies. Their warnings and errors stay.
    for name in ("aiokafka", "httpx"):
        logging.getLogger(name).setLevel(quiet)


def _valid_incoming_id(value: str | None) -> str | None:
    # Accept a caller's id only when it is short and printable, so it is safe to log and echo.
    if value and len(value) <= 128 and value.isprintable() and " " not in value:
        return value
    return None


_CORRELATION_KEY = CORRELATION_HEADER.lower().encode()
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode()


def _incoming_id(raw_headers) -> str | None:
    """The caller's X-Correlation-ID, else its X-Request-ID, when acceptable. Read from the raw
    ASGI headers: building a Request and its header map per request shows in the profile."""
    correlation = request_id = None
    for key, value in raw_headers:
        if key == _CORRELATION_KEY and correlation is None:
            correlation = value.decode("latin-1")
        elif key == _REQUEST_ID_KEY and request_id is None:
            request_id = value.decode("latin-1")
    return _valid_incoming_id(correlation) or _valid_incoming_id(request_id)


class CorrelationMiddleware:
    """Pure ASGI middleware (no body buffering, so streamed responses stay streamed)."""

    def __init__(self, app: ASGIApp, service: str):
        self.app = app
        self.service = service
        # labels() takes a lock and builds the label tuple on every call; the children are
        # few (method x route x status) and live as long as the process anyway.
        self._counters: dict[tuple[str, str, str], Counter] = {}
        self._latencies: dict[tuple[str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = _incoming_id(scope["headers"]) or new_correlation_id()
        token = _correlation_id.set(cid)
        scope.setdefault("state", {})["correlation_id"] = cid
        started = time.perf_counter()
        # 499 (the client closed the request) unless a response starts or an exception escapes.
        status = 499
        id_header = (_CORRELATION_KEY, cid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            if status == 499:
                status = 500
            raise
        finally:
            self._record(scope, status, time.perf_counter() - started)
            _correlation_id.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        counter = self._counters.get((method, template, str(status)))
        if counter is None:
            counter = HTTP_REQUESTS.labels(self.service, method, template, str(status))
            self._counters[(method, template, str(status))] = counter
        latency = self._latencies.get((method, template))
        if latency is None:
            latency = self._latencies[(method, template)] = HTTP_LATENCY.labels(self.service, method, template)
        counter.inc()
        latency.observe(seconds)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
