"""Forward one request to its upstream over the shared pool, streaming both ways, from the raw
ASGI scope (no framework request object on the proxied path)."""

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote, quote_from_bytes, unquote

import aiohttp
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from yarl import URL

from services.gateway.proxy.headers import request_headers, response_headers
from services.gateway.proxy.response import UpstreamResponse
from services.gateway.proxy.upstream import PoolBusy, UpstreamPool
from services.gateway.routes import INTERNAL_PATHS, Route
from shared.errors import Invalid, NotFound, error_body
from shared.identity import IDENTITY_HEADER

log = logging.getLogger(__name__)

# RFC 3986 pchar, minus '%' (segments are re-encoded from their decoded form).
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"
# RFC 3986 query characters, and '%' (the client's own escapes pass through as they are).
_QUERY_SAFE = "!$&'()*+,;=:@-._~/?%"
# Request bodies up to this size are read before forwarding so that the request can be sent again
# if a reused upstream connection turns out to be closed; larger or chunked bodies are streamed.
REPLAYABLE_BODY_BYTES = 64 * 1024
# Response bodies up to this size are read whole and sent in one piece: streaming costs a task
# group and a disconnect listener per response, most of the gateway's own time on a small read.
BUFFERED_RESPONSE_BYTES = 64 * 1024
# nginx's convention for "the client closed the request": never sent, only logged and counted.
CLIENT_CLOSED = 499


def upstream_path(raw_path: bytes, *, skip: int = 3) -> str:
    """The path to request upstream, from the raw request path `/v1/<service>/<rest>` (`skip`:
    the segments before `<rest>`, counting the empty one before the first slash; 1 for a public
    path forwarded as it is, like `/shared/...`).

    Works on the still-encoded path and re-encodes each segment canonically, so an encoded
    '?', '#' or '/' can never change what the upstream sees. Dot segments, encoded slashes and
    control characters are refused rather than normalised: no legitimate client sends them.
    """
    segments = raw_path.decode("latin-1").split("/")[skip:]
    clean = []
    for segment in segments:
        try:
            decoded = unquote(segment, errors="strict") if "%" in segment else segment
        except UnicodeDecodeError as exc:
            raise Invalid("path", "percent-encoding must be UTF-8") from exc
        if decoded in {".", ".."} or "/" in decoded or "\\" in decoded:
            raise Invalid("path", "dot segments and encoded slashes are not allowed")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded):
            raise Invalid("path", "control characters are not allowed")
        clean.append(quote(decoded, safe=_SEGMENT_SAFE))
    if clean and clean[0].lower() in INTERNAL_PATHS:
        raise NotFound(f"/{clean[0]} is not served through the gateway")
    return "/".join(clean)


class RequestBody:
    """The client's body, read from the ASGI `receive` channel; remembers whether the client left."""

    def __init__(self, receive: Receive):
        self._receive = receive
        self.client_left = False
        # An error raised by a layer in front (the body limit's 413) while the upstream client was
        # streaming the body: the client library wraps it, the proxy raises it again as it was.
        self.failure: Exception | None = None

    async def _chunk(self) -> tuple[bytes, bool]:
        try:
            message = await self._receive()
        except Exception as exc:
            self.failure = exc
            raise
        if message["type"] == "http.disconnect":
            self.client_left = True
            raise ClientDisconnect()
        return message.get("body", b""), message.get("more_body", False)

    async def read(self) -> bytes:
        chunks = []
        more = True
        while more:
            chunk, more = await self._chunk()
            chunks.append(chunk)
        return b"".join(chunks)

    async def stream(self) -> AsyncIterator[bytes]:
        more = True
        while more:
            chunk, more = await self._chunk()
            if chunk:
                yield chunk


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _content(scope: Scope, body: RequestBody) -> tuple[bytes | AsyncIterator[bytes] | None, bool]:
    """What to send upstream as the body, and whether it can be sent a second time."""
    length = _header(scope, b"content-length")
    if _header(scope, b"transfer-encoding") is not None or (length is not None and not length.isdigit()):
        return body.stream(), False
    if length is None:
        return None, True
    if int(length) <= REPLAYABLE_BODY_BYTES:
        return await body.read(), True
    return body.stream(), False


def upstream_url(route: Route, path: str, query: bytes) -> URL:
    """The upstream URL, sent exactly as written: the path is already canonical, and the query
    is the client's, with only bytes that may not appear in a URL percent-encoded."""
    target = f"{route.upstream}/{path}"
    if query:
        target += "?" + quote_from_bytes(query, safe=_QUERY_SAFE)
    try:
        return URL(target, encoded=True)
    except ValueError as exc:
        raise Invalid("path", "not a valid URL path") from exc


def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(error_body(error, detail), status_code=status, headers=headers)


async def forward(
    pool: UpstreamPool, route: Route, routes: dict[str, Route], scope: Scope, receive: Receive, *,
    path: str, identity_token: str | None,
) -> ASGIApp:
    """Send the request upstream; the ASGI response to send the client (the upstream's answer,
    or 503 when the service could not be reached, 502/504/499 when the exchange failed). `identity_token` None: a public route (the
    click redirect), which reaches the service with no identity at all."""
    url = upstream_url(route, path, scope["query_string"])
    headers = request_headers(scope)
    if identity_token is not None:
        headers.append((IDENTITY_HEADER, identity_token))
    body = RequestBody(receive)
    try:
        content, replayable = await _content(scope, body)
        exchange = await pool.send(scope["method"], url, headers, content, replayable=replayable, timeout=route.timeout)
    except ClientDisconnect:
        return _client_closed(route)
    except PoolBusy:
        log.warning("gateway connection pool exhausted", extra={"upstream": route.service})
        return _error(503, "gateway_busy", "too many requests in flight; retry shortly", {"Retry-After": "1"})
    except TimeoutError:
        log.warning("upstream timed out", extra={"upstream": route.service})
        return _error(504, "upstream_timeout", f"{route.service} did not answer within {route.timeout:g}s")
    except aiohttp.ClientConnectorError as exc:
        # No connection was made, so nothing reached the service: it is down or restarting, and
        # the same request sent again shortly will be its first (ADR 0055).
        log.warning("upstream unavailable", extra={"upstream": route.service, "error": type(exc).__name__})
        return _error(503, "upstream_unavailable", f"{route.service} is unavailable; retry shortly", {"Retry-After": "1"})
    except aiohttp.ClientError as exc:
        if body.failure is not None:
            raise body.failure from exc
        if body.client_left:  # the upload broke off because the client did
            return _client_closed(route)
        # The request may have reached the service before the connection broke: a 502, so the
        # client decides whether sending it again is safe (an Idempotency-Key makes it so).
        log.warning("upstream broke off the exchange", extra={"upstream": route.service, "error": type(exc).__name__})
        return _error(502, "bad_gateway", f"{route.service} broke off the exchange")
    upstream = exchange.response
    headers = response_headers(upstream.raw_headers, route, routes)
    length = upstream.headers.get("content-length", "")
    if length.isdigit() and int(length) <= BUFFERED_RESPONSE_BYTES:
        try:
            content = await exchange.read()
        except aiohttp.ClientError as exc:
            log.warning("upstream failed mid-body", extra={"upstream": route.service, "error": type(exc).__name__})
            return _error(502, "bad_gateway", f"{route.service} broke off its answer")
        except TimeoutError:
            log.warning("upstream timed out", extra={"upstream": route.service})
            return _error(504, "upstream_timeout", f"{route.service} did not answer within {route.timeout:g}s")
        return Buffered(upstream.status, headers, content)
    return UpstreamResponse(exchange, headers)


def _client_closed(route: Route) -> Response:
    log.info("client closed the request", extra={"upstream": route.service, "status": CLIENT_CLOSED})
    return Response(status_code=CLIENT_CLOSED)


class Buffered:
    """A whole upstream answer, sent as two ASGI messages (no Response object to build)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})
