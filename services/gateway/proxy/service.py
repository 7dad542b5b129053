"""Forward one request to its upstream over the shared, pooled client, streaming both ways."""

import logging

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from services.gateway.routes import Route
from shared.errors import error_body
from shared.observability import CORRELATION_HEADER, current_correlation_id

log = logging.getLogger(__name__)

# RFC 9110 section 7.6.1: connection-specific fields are not forwarded by intermediaries.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "host"}
)


def _request_headers(request: Request) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
    headers = [(k, v) for k, v in headers if k.lower() != CORRELATION_HEADER.lower()]
    headers.append((CORRELATION_HEADER, current_correlation_id() or ""))
    client = request.client.host if request.client else ""
    prior = request.headers.get("x-forwarded-for")
    headers = [(k, v) for k, v in headers if k.lower() not in {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}]
    headers.append(("X-Forwarded-For", f"{prior}, {client}" if prior else client))
    headers.append(("X-Forwarded-Proto", request.url.scheme))
    headers.append(("X-Forwarded-Host", request.headers.get("host", "")))
    return headers


# The gateway's server sets its own; forwarding the upstream's would send them twice.
SET_BY_GATEWAY = frozenset({"date", "server", CORRELATION_HEADER.lower()})


def _response_headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    # Raw pairs, not a dict: repeated headers such as Set-Cookie must all pass through.
    return [
        (k, v) for k, v in response.headers.raw if k.decode("latin-1").lower() not in HOP_BY_HOP | SET_BY_GATEWAY
    ]


async def forward(client: httpx.AsyncClient, route: Route, path: str, request: Request):
    url = httpx.URL(f"{route.upstream}/{path}", query=request.url.query.encode())
    upstream_request = client.build_request(
        request.method,
        url,
        headers=_request_headers(request),
        content=request.stream(),
        timeout=route.timeout,
    )
    try:
        upstream = await client.send(upstream_request, stream=True)
    except httpx.TimeoutException:
        log.warning("upstream timed out", extra={"upstream": route.service})
        return JSONResponse(
            error_body("upstream_timeout", f"{route.service} did not answer within {route.timeout:g}s"),
            status_code=504,
        )
    except httpx.TransportError as exc:
        log.warning("upstream unreachable", extra={"upstream": route.service, "error": type(exc).__name__})
        return JSONResponse(error_body("bad_gateway", f"{route.service} is unreachable"), status_code=502)
    response = StreamingResponse(
        upstream.aiter_raw(), status_code=upstream.status_code, background=BackgroundTask(upstream.aclose)
    )
    response.raw_headers = _response_headers(upstream)
    return response
