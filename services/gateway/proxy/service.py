"""Forward one request to its upstream over the shared, pooled client, streaming both ways."""

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote, unquote

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from services.gateway.proxy import upstream as upstreams
from services.gateway.proxy.headers import request_headers, response_headers
from services.gateway.proxy.response import UpstreamResponse, read_body
from services.gateway.routes import INTERNAL_PATHS, Route
from shared.errors import Invalid, NotFound, error_body
from shared.identity import IDENTITY_HEADER

IDENTITY_HEADER_RAW = IDENTITY_HEADER.lower().encode("latin-1")

log = logging.getLogger(__name__)

# RFC 3986 pchar, minus '%' (segments are re-encoded from their decoded form).
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"
# Request bodies up to this size are read before forwarding so that the request can be sent again
# if a reused upstream connection turns out to be closed; larger or chunked bodies are streamed.
REPLAYABLE_BODY_BYTES = 64 * 1024
# Response bodies up to this size are read whole and sent in one piece: streaming costs a task
# group and a disconnect listener per response, most of the gateway's own time on a small read.
BUFFERED_RESPONSE_BYTES = 64 * 1024
# nginx's convention for "the client closed the request": never sent, only logged and counted.
CLIENT_CLOSED = 499


def upstream_path(raw_path: bytes) -> str:
    """The path to request upstream, from the raw request path `/v1/<service>/<rest>`.

    Works on the still-encoded path and re-encodes each segment canonically, so an encoded
    '?', '#' or '/' can never change what the upstream sees. Dot segments, encoded slashes and
    control characters are refused rather than normalised: no legitimate client sends them.
    """
    segments = raw_path.decode("latin-1").split("/")[3:]
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


async def _request_body(request: Request) -> tuple[bytes | AsyncIterator[bytes] | None, bool]:
    """What to send upstream as the body, and whether it can be sent a second time."""
    length = request.headers.get("content-length")
    if "transfer-encoding" in request.headers or (length is not None and not length.isdigit()):
        return request.stream(), False
    if length is None:
        return None, True
    if int(length) <= REPLAYABLE_BODY_BYTES:
        return await request.body(), True
    return request.stream(), False


async def forward(
    client: httpx.AsyncClient, route: Route, request: Request, routes: dict[str, Route], *, identity_token: str
) -> Response:
    path = upstream_path(request.scope.get("raw_path") or request.url.path.encode())
    try:
        url = httpx.URL(f"{route.upstream}/{path}", query=request.url.query.encode())
    except httpx.InvalidURL as exc:
        raise Invalid("path", "not a valid URL path") from exc
    headers = request_headers(request)
    headers.append((IDENTITY_HEADER_RAW, identity_token.encode("latin-1")))
    timeout = httpx.Timeout(route.timeout).as_dict()
    try:
        content, replayable = await _request_body(request)

        # httpx.Request rather than client.build_request: the client's default headers
        # (Accept-Encoding, User-Agent...) and cookies are not merged in, so the upstream sees
        # exactly what the client sent.
        def build() -> httpx.Request:
            return httpx.Request(request.method, url, headers=headers, content=content, extensions={"timeout": timeout})

        upstream = await upstreams.send(client, build, replayable)
    except ClientDisconnect:
        log.info("client closed the request", extra={"upstream": route.service, "status": CLIENT_CLOSED})
        return Response(status_code=CLIENT_CLOSED)
    except httpx.PoolTimeout:
        log.warning("gateway connection pool exhausted", extra={"upstream": route.service})
        return JSONResponse(
            error_body("gateway_busy", "too many requests in flight; retry shortly"),
            status_code=503,
            headers={"Retry-After": "1"},
        )
    except httpx.TimeoutException:
        log.warning("upstream timed out", extra={"upstream": route.service})
        return JSONResponse(
            error_body("upstream_timeout", f"{route.service} did not answer within {route.timeout:g}s"),
            status_code=504,
        )
    except httpx.TransportError as exc:
        log.warning("upstream unreachable", extra={"upstream": route.service, "error": type(exc).__name__})
        return JSONResponse(error_body("bad_gateway", f"{route.service} is unreachable"), status_code=502)
    headers = response_headers(upstream, route, routes)
    length = upstream.headers.get("content-length", "")
    if length.isdigit() and int(length) <= BUFFERED_RESPONSE_BYTES:
        try:
            body = await read_body(upstream)
        except httpx.TransportError as exc:
            log.warning("upstream failed mid-body", extra={"upstream": route.service, "error": type(exc).__name__})
            return JSONResponse(error_body("bad_gateway", f"{route.service} broke off its answer"), status_code=502)
        response = Response(body, status_code=upstream.status_code)
        response.raw_headers = headers
        return response
    return UpstreamResponse(upstream, headers)
