"""Headers on every answer, and CORS for the configured frontend origins.

`ResponseHeaders` is the outermost layer of the gateway, outside even the correlation id and the
500 handler, so nothing the gateway sends goes without: the security headers (OWASP's set for a
JSON API: nothing may sniff, frame, refer or run it) and `X-Request-ID`, the correlation id under
the name many clients and proxies look for. `/docs` and `/redoc` are HTML pages that load the
Swagger UI and ReDoc from their CDN; their policy allows exactly what FastAPI's pages load,
read from the pages themselves, and their inline script by hash. The pages a service renders
itself for people (the audit report) are self-contained: they may use their inline styles (the
report's stylesheet and its SVG charts' style attributes) and nothing else, no script at all.
"""

import base64
import re
import hashlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.traffic.policy import TrafficPolicy
from shared.errors import error_body
from shared.observability import CORRELATION_HEADER, REQUEST_ID_HEADER

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
REFERENCE_PAGES = frozenset({"/docs", "/redoc"})
# Inline styles only: CSS cannot run script, and with every fetch refused it cannot send anything
# anywhere either (no url() loads).
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SERVICE_PAGES = re.compile(r"/v1/audit/audits/[^/]+/report|/shared/audits/[^/]+/report")
# Loaded by the stylesheet of ReDoc's font, not named in the page.
FONT_ORIGINS = ("https://fonts.gstatic.com",)


class _PageResources(HTMLParser):
    """The origins a page loads scripts, stylesheets and icons from, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: set[str] = set()
        self.styles: set[str] = set()
        self.images: set[str] = set()
        self.inline: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self.scripts.add(_origin(found["src"]))
            else:
                self._in_inline_script = True
                self.inline.append("")
        elif tag == "link" and found.get("href"):
            rel = (found.get("rel") or "").split()
            if "stylesheet" in rel:
                self.styles.add(_origin(found["href"]))
            elif "icon" in rel:
                self.images.add(_origin(found["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline[-1] += data


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "'self'"


def _script_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def reference_policy() -> str:
    """The Content-Security-Policy of /docs and /redoc, from the pages FastAPI builds for them."""
    resources = _PageResources()
    for page in (
        get_swagger_ui_html(openapi_url="/openapi.json", title="Limelight API reference"),
        get_redoc_html(openapi_url="/openapi.json", title="Limelight API reference"),
    ):
        resources.feed(page.body.decode())
    scripts = sorted(resources.scripts) + sorted({_script_hash(s) for s in resources.inline})
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(scripts),
            # Both UIs set inline styles (React, styled-components).
            "style-src " + " ".join([*sorted(resources.styles), "'unsafe-inline'"]),
            "img-src 'self' data: " + " ".join(sorted(resources.images)),
            "font-src data: " + " ".join(FONT_ORIGINS),
            "connect-src 'self'",
            "worker-src blob:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


_CORRELATION_KEY = CORRELATION_HEADER.lower().encode()
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode()


class ResponseHeaders:
    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 0):
        self.app = app
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        ]
        if hsts_seconds:
            common.append((b"strict-transport-security", f"max-age={hsts_seconds}; includeSubDomains".encode()))
        self.api_headers = [*common, (b"content-security-policy", API_POLICY.encode())]
        self.reference_headers = [*common, (b"content-security-policy", reference_policy().encode())]
        self.page_headers = [*common, (b"content-security-policy", PAGE_POLICY.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in REFERENCE_PAGES:
            extra = self.reference_headers
        elif SERVICE_PAGES.fullmatch(path):
            extra = self.page_headers
        else:
            extra = self.api_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *extra]
                for name, value in headers:
                    if name == _CORRELATION_KEY:
                        headers.append((_REQUEST_ID_KEY, value))
                        break
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# What a browser app may send and read beyond the CORS-safelisted headers.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", CORRELATION_HEADER, REQUEST_ID_HEADER)
EXPOSED_HEADERS = (
    "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
    CORRELATION_HEADER, REQUEST_ID_HEADER, "Location", "WWW-Authenticate",
)


class _JsonCors(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the project's JSON error body."""

    def preflight_response(self, request_headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        refused = JSONResponse(error_body("cors_refused", response.body.decode()), status_code=response.status_code)
        refused.raw_headers.extend(
            (name, value) for name, value in response.raw_headers if name.startswith((b"access-control-", b"vary"))
        )
        return refused


class Cors:
    """CORS for `GATEWAY_CORS_ORIGINS` (none by default: then this layer is a pass-through).
    Preflights are answered here, before authentication: browsers send them without credentials.
    Credentials are bearer tokens, never cookies, so Access-Control-Allow-Credentials stays off."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.cors: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cors = self.cors or self._bind(scope)
        await cors(scope, receive, send)

    def _bind(self, scope: Scope) -> ASGIApp:
        policy: TrafficPolicy = scope["app"].state.traffic
        if not policy.cors_origins:
            self.cors = self.app
        else:
            self.cors = _JsonCors(
                self.app,
                allow_origins=policy.cors_origins,
                allow_methods=("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"),
                allow_headers=ALLOWED_HEADERS,
                expose_headers=EXPOSED_HEADERS,
                max_age=policy.cors_max_age,
            )
        return self.cors
