"""Forward one request to its upstream over the shared, pooled client, streaming both ways."""

import logging
from urllib.parse import quote, unquote

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse

from services.gateway.routes import INTERNAL_PATHS, Route
from shared.errors import Invalid, NotFound, error_body
from shared.observability import CORRELATION_HEADER, current_correlation_id

log = logging.getLogger(__name__)

# RFC 9110 section 7.6.1: connection-specific fields are not forwarded by intermediaries.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
     "trailer", "transfer-encoding", "upgrade", "host"}
)
# Set by the gateway itself; a client's or upstream's copy is never passed on.
GATEWAY_OWNED_REQUEST = frozenset({CORRELATION_HEADER.lower(), "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"})
GATEWAY_OWNED_RESPONSE = frozenset({"date", "server", CORRELATION_HEADER.lower()})
# RFC 3986 pchar, minus '%' (segments are re-encoded from their decoded form).
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"


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


def _request_headers(request: Request) -> list[tuple[str, str]]:
    listed = {t.strip().lower() for t in request.headers.get("connection", "").split(",") if t.strip()}
    dropped = HOP_BY_HOP | GATEWAY_OWNED_REQUEST | listed
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in dropped]
    # The gateway is the edge: the client's own X-Forwarded-For is not trusted, or anyone could
    # pose as any address to the click-fraud rules and rate limits behind it.
    headers += [
        (CORRELATION_HEADER, current_correlation_id() or ""),
        ("X-Forwarded-For", request.client.host if request.client else ""),
        ("X-Forwarded-Proto", request.url.scheme),
        ("X-Forwarded-Host", request.headers.get("host", "")),
    ]
    return headers


def _response_headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    listed = {t.strip().lower() for t in response.headers.get("connection", "").split(",") if t.strip()}
    dropped = HOP_BY_HOP | GATEWAY_OWNED_RESPONSE | listed
    # Raw pairs, not a dict: repeated headers such as Set-Cookie must all pass through.
    return [(k, v) for k, v in response.headers.raw if k.decode("latin-1").lower() not in dropped]


def _has_body(request: Request) -> bool:
    return "content-length" in request.headers or "transfer-encoding" in request.headers


async def forward(client: httpx.AsyncClient, route: Route, request: Request):
    path = upstream_path(request.scope.get("raw_path") or request.url.path.encode())
    try:
        upstream_request = client.build_request(
            request.method,
            httpx.URL(f"{route.upstream}/{path}", query=request.url.query.encode()),
            headers=_request_headers(request),
            content=request.stream() if _has_body(request) else None,
            timeout=route.timeout,
        )
    except httpx.InvalidURL as exc:
        raise Invalid("path", "not a valid URL path") from exc
    try:
        upstream = await client.send(upstream_request, stream=True)
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

    async def body():
        # Closed however the stream ends: done, client gone, or upstream failing mid-body.
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await upstream.aclose()

    response = StreamingResponse(body(), status_code=upstream.status_code)
    response.raw_headers = _response_headers(upstream)
    return response
