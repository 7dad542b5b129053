"""The gateway's public routes: the click redirect and the probes (docs/decisions/0017).

- `GET /r/{slug}`: no credentials (a shopper clicking a creator's link has none). Forwarded to
  attribution's `/r/{slug}` with no identity token: there is no caller to vouch for, and an
  "anonymous" token would be one more thing a service could mistake for a tenant. Attribution
  declares the route `public()`.
- `GET /shared/audits/{token}` and `POST /shared/audits/{token}/appeals`: a creator's view of its
  audit through a share link, and its appeals (docs/decisions/0043). No credentials (the token is
  the credential); forwarded as they are to audit, which serves them at the same path and
  declares them `public()`, with no identity token, like the click redirect. The merged reference
  lists them at these paths (routes.py `PUBLIC_FORWARDS`).
- `GET /readyz`: ready when the gateway's database and every upstream are; one up/down per
  name, nothing more. Computed at most once a second, whatever the number of probes.
- `GET /metrics`: only to client addresses in `gateway_metrics_allow` (loopback and private
  networks by default); anyone else gets the 404 of an unknown path.

`/healthz` and `/readyz` are served by `PublicProbes` (an edge layer, innermost) rather than by
the app's router, where the shared health router's operator versions would answer first.
"""

import asyncio
import ipaddress
import logging
import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.proxy.service import forward, upstream_path
from services.gateway.routes import PUBLIC_FORWARDS, Route
from shared.app import VERSION
from shared.db import database_ready
from shared.errors import LimelightError, error_body
from shared.identity import public
from shared.redirect import click_slug

log = logging.getLogger(__name__)

# A probe answers well inside a prober's own timeout (2 s for `limelight`) even when an upstream
# hangs instead of refusing.
UPSTREAM_PROBE_SECONDS = 1.0
# Probes arriving within this long share one check: a flood of them is not multiplied by the
# number of upstreams.
READINESS_CACHE_SECONDS = 1.0

router = APIRouter(tags=["public"])


# HEAD too: a link checker or preview fetcher may HEAD a link; attribution records it, flagged.
# Its own route, out of the document: one operation per method would share an operation id.
@router.head("/r/{slug}", dependencies=[public()], response_class=Response, include_in_schema=False)
@router.get(
    "/r/{slug}",
    dependencies=[public()],
    response_class=Response,
    summary="Follow a tracked link",
    responses={
        302: {"description": "To the campaign's destination, the click recorded."},
        404: {
            "description": "Unknown, revoked or expired link: a small HTML page (nothing recorded).",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
    },
)
async def click_redirect(request: Request, slug: str = Path(min_length=1, max_length=200)) -> Response:
    """The short link a creator shares. No credentials: the click is counted and the browser
    sent on to the brand's page."""
    # Reached only when `ClickRedirect` (the edge's fast path, below) leaves a request to FastAPI,
    # which it does for none it can answer: kept for the reference document and as the fallback.
    return _Forwarded(await _forward_click(request.app, request.scope, request.receive, slug))


async def _forward_click(app: FastAPI, scope: Scope, receive: Receive, slug: str) -> ASGIApp:
    # The client's end-to-end headers and the gateway's X-Forwarded-For (the click's address
    # matters to fraud rules); never an identity token.
    return await forward(
        app.state.upstreams, app.state.routes["attribution"], app.state.routes, scope, receive,
        path=f"r/{quote(slug, safe='')}", identity_token=None,
    )


class _Forwarded(Response):
    """The proxy's ASGI answer, handed back through FastAPI as the Response it expects."""

    def __init__(self, answer: ASGIApp):
        self.answer = answer
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.answer(scope, receive, send)


# What the correlation middleware reads to label the request's metrics, as FastAPI's route would.
_CLICK_ROUTE = SimpleNamespace(path="/r/{slug}")


class ClickRedirect:
    """The click redirect's fast path: `GET`/`HEAD /r/<slug>` forwarded to attribution straight
    from the edge, without FastAPI's route matching over the whole URL map, dependency solving
    and request/response objects, which were about a third of the gateway's time per click
    (docs/decisions/0033; the proxy's own fast path is ADR 0016's). Installed with `Proxy`, behind
    every other edge layer: the address rate limit, CORS and the rest still run. A request the
    route would refuse (an empty or too long slug, a slash in it) falls through to FastAPI, which
    answers exactly as before."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slug = click_slug(scope)
        if slug is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _CLICK_ROUTE
        try:
            answer = await _forward_click(scope["app"], scope, receive, slug)
        except LimelightError as exc:  # rendered as the app's handler would have
            answer = JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status_code, headers=exc.headers)
        await answer(scope, receive, send)


PUBLIC_FORWARD_METHODS = frozenset({"GET", "POST"})
# The metrics label of every forwarded public request: one template, never the token.
_PUBLIC_FORWARD_ROUTE = SimpleNamespace(path="/shared/{path}")


class PublicForward:
    """`/shared/...` forwarded to audit from the edge, like `ClickRedirect`: behind the address
    rate limit, the body limit and the rest of the edge; the client's end-to-end headers and the
    gateway's X-Forwarded-For go along, never an identity. The path is made canonical as the
    proxy's is (`upstream_path`): dot segments and encoded slashes are refused."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = self._service(scope)
        if service is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _PUBLIC_FORWARD_ROUTE
        state = scope["app"].state
        try:
            path = upstream_path(scope.get("raw_path") or scope["path"].encode(), skip=1)
            answer = await forward(
                state.upstreams, state.routes[service], state.routes, scope, receive, path=path, identity_token=None
            )
        except LimelightError as exc:  # rendered as the app's handler would have
            answer = JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status_code, headers=exc.headers)
        await answer(scope, receive, send)

    @staticmethod
    def _service(scope: Scope) -> str | None:
        if scope["type"] != "http" or scope["method"] not in PUBLIC_FORWARD_METHODS:
            return None
        path: str = scope["path"]
        for prefix, service in PUBLIC_FORWARDS.items():
            if path.startswith(prefix):
                return service
        return None


# --- probes -----------------------------------------------------------------------------------


class Health(BaseModel):
    status: str = Field(description="`ok` while the process serves requests.")
    service: str
    version: str


class Readiness(BaseModel):
    status: str = Field(description="`ready`, or `not_ready` (with status 503) when any check is `down`.")
    checks: dict[str, str] = Field(
        description="`up` or `down` for the gateway itself (its database) and each service behind it."
    )


probes = APIRouter(tags=["public"])


@probes.get("/healthz", response_model=Health, summary="Liveness", dependencies=[public()])
async def healthz() -> Health:
    """The gateway process is alive (for a load balancer); says nothing about its upstreams."""
    return Health(status="ok", service="gateway", version=VERSION)


@probes.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    dependencies=[public()],
    responses={503: {"model": Readiness, "description": "Something the gateway needs is down."}},
)
async def readyz(request: Request) -> JSONResponse:
    """Ready when the gateway's database and every service behind it are ready."""
    report = await _readiness(request.app).report(request.app)
    return JSONResponse(report.model_dump(), status_code=200 if report.status == "ready" else 503)


class ReadinessCheck:
    """One readiness computation at a time, its result reused for `READINESS_CACHE_SECONDS`."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._report: Readiness | None = None
        self._expires = 0.0

    async def report(self, app: FastAPI) -> Readiness:
        async with self._lock:
            if self._report is None or time.monotonic() >= self._expires:
                self._report = await self._check(app)
                self._expires = time.monotonic() + READINESS_CACHE_SECONDS
            return self._report

    async def _check(self, app: FastAPI) -> Readiness:
        routes: dict[str, Route] = app.state.routes
        names = ["gateway", *routes]
        states = await asyncio.gather(
            _database_state(app), *(_upstream_state(app.state.own_http, routes[n]) for n in routes)
        )
        checks = dict(zip(names, states))
        ready = all(state == "up" for state in checks.values())
        return Readiness(status="ready" if ready else "not_ready", checks=checks)


async def _database_state(app: FastAPI) -> str:
    try:
        await asyncio.wait_for(database_ready(app.state.ctx.engine), UPSTREAM_PROBE_SECONDS)
        return "up"
    except Exception as exc:  # readiness reports, it never raises
        log.warning("readiness: database unreachable", extra={"error": type(exc).__name__})
        return "down"


async def _upstream_state(client: httpx.AsyncClient, route: Route) -> str:
    try:
        response = await client.get(f"{route.upstream}/readyz", timeout=UPSTREAM_PROBE_SECONDS)
    except httpx.HTTPError as exc:
        log.warning("readiness: upstream unreachable", extra={"upstream": route.service, "error": type(exc).__name__})
        return "down"
    return "up" if response.status_code == 200 else "down"


def _readiness(app: FastAPI) -> ReadinessCheck:
    check = getattr(app.state, "public_readiness", None)
    if check is None:
        check = app.state.public_readiness = ReadinessCheck()
    return check


def document_probes(document: dict[str, Any]) -> dict[str, Any]:
    """Add the public probes to a reference document (they are served by `PublicProbes`, not
    by the app's router, so the app's own document does not list them)."""
    own = get_openapi(title="probes", version=VERSION, routes=probes.routes)
    document.setdefault("paths", {}).update(own["paths"])
    document.setdefault("components", {}).setdefault("schemas", {}).update(own["components"]["schemas"])
    return document


# --- the edge layer ---------------------------------------------------------------------------

PROBE_PATHS = frozenset({"/healthz", "/readyz"})
METRICS_PATH = "/metrics"


def metrics_allowed(client: tuple[str, int] | None, networks: list[str]) -> bool:
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(network) for network in networks)


class PublicProbes:
    """Serves the public `/healthz` and `/readyz`, and lets `/metrics` through only from allowed
    networks. Runs inside the correlation id, the error handling and the edge's rate limits, so
    probes are counted and limited like any public route."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self._probes: FastAPI | None = None

    def _probe_app(self, gateway: FastAPI) -> FastAPI:
        """`probes` as an app of its own that shares the gateway's state (its upstreams, client
        and database): a router alone cannot be served outside an app."""
        if self._probes is None:
            probe_app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
            probe_app.include_router(probes)
            probe_app.state = gateway.state
            self._probes = probe_app
        return self._probes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path in PROBE_PATHS and scope["method"] == "GET":
                await self._probe_app(scope["app"])(scope, receive, send)
                return
            if path == METRICS_PATH:
                allowed = scope["app"].state.ctx.settings.gateway_metrics_allow
                if not metrics_allowed(scope.get("client"), allowed):
                    response = JSONResponse(error_body("not_found", "Not Found"), status_code=404)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
