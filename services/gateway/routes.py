"""The route table: which public prefix goes to which upstream, with what timeout.

Kept as data, like a Kong service/route or an Envoy cluster, so that adding a service is one
row here and one setting.
"""

import re
from dataclasses import dataclass

from services.gateway.config import GatewaySettings

# Upstream paths that are for operators and probes, never for the public door.
INTERNAL_PATHS = frozenset({"healthz", "readyz", "metrics", "openapi.json", "docs", "redoc"})
# Public prefixes forwarded, path unchanged, without credentials and with no identity token, to the
# service that serves them (services/gateway/public.py `PublicForward`): the creators' shared audit
# views (docs/decisions/0043). Reached only there, never under /v1/<service>/.
PUBLIC_FORWARDS = {"/shared/": "audit"}


# The scope family of each service's routes (shared.identity.SCOPES).
SCOPE_FAMILY = {"discovery": "discovery", "audit": "audits", "attribution": "attribution"}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Route:
    service: str
    prefix: str
    upstream: str
    timeout: float

    def default_scope(self, method: str) -> str:
        """The scope a request needs when the service's own table does not say otherwise:
        `<family>:read` for safe methods, `<family>:write` for the rest."""
        family = SCOPE_FAMILY[self.service]
        return f"{family}:read" if method in SAFE_METHODS else f"{family}:write"


def route_table(settings: GatewaySettings) -> dict[str, Route]:
    def row(service: str, url: str, timeout: float | None) -> Route:
        return Route(service, f"/v1/{service}", url.rstrip("/"), timeout or settings.upstream_timeout_seconds)

    routes = [
        row("discovery", settings.discovery_url, settings.discovery_timeout_seconds),
        row("audit", settings.audit_url, settings.audit_timeout_seconds),
        row("attribution", settings.attribution_url, settings.attribution_timeout_seconds),
    ]
    return {r.service: r for r in routes}


def slow_routes(settings: GatewaySettings) -> re.Pattern[str] | None:
    """One pattern matching every public path of `gateway_slow_routes` (a `{name}` segment stands
    for any one segment), or None when there are none."""
    if not settings.gateway_slow_routes:
        return None
    templates = (
        "/".join("[^/]+" if part.startswith("{") and part.endswith("}") else re.escape(part) for part in t.split("/"))
        for t in settings.gateway_slow_routes
    )
    return re.compile("(?:" + "|".join(templates) + ")")


def bulk_timeouts(settings: GatewaySettings) -> dict[str, float]:
    """The public paths that take bulk bodies, each with the upstream timeout it gets instead of
    its route's (never shorter than the route's)."""
    return {path: settings.gateway_bulk_timeout_seconds for path in settings.gateway_bulk_routes}
