"""Which headers cross the gateway, in each direction, and what it writes itself."""

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import Scope

from services.gateway.routes import Route
from shared.errors import Invalid
from shared.identity import IDENTITY_HEADER
from shared.observability import CORRELATION_HEADER, current_correlation_id

# RFC 9110 section 7.6.1: connection-specific fields are not forwarded by intermediaries.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
     "trailer", "transfer-encoding", "upgrade", "host"}
)
# The gateway is the edge: every header that claims where a request came from is its own to
# write. A client's copy would let anyone pose as any address to the click-fraud rules and rate
# limits behind it (RFC 7239 `Forwarded` and the de-facto X-Forwarded-* / X-Real-IP family).
# The caller's credential stays at the door (a service never needs it, and would only risk logging
# it), and the identity header is the gateway's alone to write.
GATEWAY_OWNED_REQUEST = frozenset(
    {CORRELATION_HEADER.lower(), IDENTITY_HEADER.lower(), "authorization", "forwarded", "x-real-ip", "x-forwarded-for", "x-forwarded-proto",
     "x-forwarded-host", "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-server"}
)
# The gateway writes these on every answer (services/gateway/traffic): an upstream's copy would
# be sent twice, or contradict the gateway's own limits and security policy.
GATEWAY_OWNED_RESPONSE = frozenset(
    {"date", "server", CORRELATION_HEADER.lower(), "x-request-id", "ratelimit-limit", "ratelimit-remaining",
     "ratelimit-reset", "x-content-type-options", "referrer-policy", "x-frame-options", "strict-transport-security",
     "content-security-policy"}
)
_DROPPED = HOP_BY_HOP | GATEWAY_OWNED_REQUEST
_DROPPED_RESPONSE = HOP_BY_HOP | GATEWAY_OWNED_RESPONSE


# Control characters other than HTAB: the upstream client refuses to write them (header injection).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _connection_listed(value: str) -> set[str]:
    return {t.strip().lower() for t in value.split(",") if t.strip()}


def request_headers(scope: Scope) -> list[tuple[str, str]]:
    """Exactly the client's end-to-end headers, plus the gateway's own forwarding headers.

    Read from the raw ASGI headers, as strings (the upstream client's header type)."""
    raw = scope["headers"]
    dropped = _DROPPED
    connection = [v for k, v in raw if k == b"connection"]
    if connection:
        dropped = dropped | _connection_listed(b",".join(connection).decode("latin-1"))
    host = ""
    headers = []
    # ASGI servers give header names lower-cased, so membership is a plain lookup.
    for key, value in raw:
        name = key.decode("latin-1")
        if name == "host" and not host:
            host = value.decode("latin-1")
        if name not in dropped:
            headers.append((name, _text(name, value)))
    client = scope.get("client")
    headers += [
        ("x-correlation-id", current_correlation_id() or ""),
        ("x-forwarded-for", client[0] if client else ""),
        ("x-forwarded-proto", scope.get("scheme", "http")),
        ("x-forwarded-host", host),
    ]
    return headers


def _text(name: str, value: bytes) -> str:
    """A header value as the upstream client takes it. It writes values as UTF-8, so ASCII and
    UTF-8 values reach the upstream byte for byte; any other bytes (obs-text) are refused rather
    than silently changed."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"headers.{name}", "must be ASCII or UTF-8") from exc
    if _CONTROL.search(text):
        raise Invalid(f"headers.{name}", "control characters are not allowed")
    return text


def response_headers(raw: Iterable[tuple[bytes, bytes]], route: Route, routes: dict[str, Route]) -> list[tuple[bytes, bytes]]:
    """The upstream's end-to-end response headers, raw pairs, Location made public."""
    raw = list(raw)
    listed = [v for k, v in raw if k.lower() == b"connection"]
    dropped = _DROPPED_RESPONSE | (_connection_listed(b",".join(listed).decode("latin-1")) if listed else set())
    # Raw pairs, not a dict: repeated headers such as Set-Cookie must all pass through.
    headers = []
    for key, value in raw:
        name = key.decode("latin-1").lower()
        if name in dropped:
            continue
        if name == "location":
            value = public_location(value.decode("latin-1"), route, routes).encode("latin-1")
        headers.append((key, value))
    return headers


def public_location(location: str, route: Route, routes: dict[str, Route]) -> str:
    """An upstream's redirect target as a client may see it.

    An absolute URL naming any upstream (its own slash redirect, say) becomes that upstream's
    public prefix, and an absolute path gets the answering upstream's prefix; RFC 9110 section
    10.2.2 lets Location be a relative reference, so no public host has to be guessed. Anything
    else (a click redirect to a brand's shop) is passed on untouched.
    """
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        for candidate in routes.values():
            if parts.netloc.lower() == urlsplit(candidate.upstream).netloc.lower():
                return _prefixed(candidate.prefix, parts.path, parts.query, parts.fragment)
        return location
    if location.startswith("/"):
        return _prefixed(route.prefix, parts.path, parts.query, parts.fragment)
    return location


def _prefixed(prefix: str, path: str, query: str, fragment: str) -> str:
    return prefix + (path if path.startswith("/") else "/" + path) + (f"?{query}" if query else "") + (
        f"#{fragment}" if fragment else ""
    )
