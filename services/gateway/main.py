"""Gateway: `uvicorn services.gateway.main:create_app --factory`."""

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.gateway import api
from services.gateway.config import GatewaySettings, get_settings
from services.gateway.db import SERVICE
from services.gateway.identity.authenticator import Authenticator
from services.gateway.identity.edge import Authenticate
from services.gateway.identity.jwt import jwt_verifier
from services.gateway.identity.store import KeyStore
from services.gateway.operator import operator_listener
from services.gateway.proxy.edge import Proxy
from services.gateway.proxy.upstream import UpstreamPool, make_client
from services.gateway.webhooks.ingress import WebhookReceiver
from services.gateway.public import ClickRedirect, PublicForward, PublicProbes
from services.gateway.reference.service import MergedSpecCache
from services.gateway.routes import bulk_timeouts, route_table, slow_routes
from services.gateway.scopes import ScopeTable
from services.gateway.webhooks.pruning import DeliveryPruner
from services.gateway.traffic.body import BodyLimit
from services.gateway.traffic.headers import Cors, ResponseHeaders
from services.gateway.traffic.lifespan import traffic_policy
from services.gateway.traffic.ratelimit import AddressRateLimit, KeyRateLimit
from shared.app import create_service_app
from shared.identity import IdentitySigner, IdentityVerifier
from shared.openapi import with_error_responses

# Connections for the gateway's own calls to upstreams: one document and one readiness probe per
# upstream at once.
OWN_CONNECTIONS = 8


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if not settings.gateway_identity_private_key:
        raise RuntimeError(
            "GATEWAY_IDENTITY_PRIVATE_KEY is not set: the gateway cannot vouch for callers without it "
            "(`./limelight up` generates one; see docs/guide/gateway.md)"
        )
    signer = IdentitySigner(settings.gateway_identity_private_key)

    @asynccontextmanager
    async def resources(app: FastAPI):
        # httpx logs every request at INFO: one line per proxied call, more than the request
        # itself is worth; its warnings stay.
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # One pool for every upstream: connections are reused across requests. The httpx client
        # is the merged reference's; proxied requests go through the pool.
        async with (
            make_client(settings.upstream_max_connections, settings.upstream_keepalive_seconds) as client,
            # The gateway's own calls to upstreams (their documents, their readiness: a few at a
            # time), apart from the proxy's pool so they never take a connection a request waits for.
            make_client(OWN_CONNECTIONS, settings.upstream_keepalive_seconds) as own_calls,
            UpstreamPool(settings.upstream_max_connections, settings.upstream_keepalive_seconds) as upstreams,
            operator_listener(SERVICE, app.state.ctx, settings.gateway_operator_host, settings.gateway_operator_port)
            as operator_port,
            traffic_policy(app, settings),
        ):
            app.state.operator_port = operator_port
            app.state.signer = signer
            keys = KeyStore(app.state.ctx.engine, ttl=settings.key_cache_seconds, poll_interval=settings.key_poll_seconds)
            app.state.authenticator = Authenticator(keys, jwt=jwt_verifier(settings, keys))
            stop = asyncio.Event()
            poller = asyncio.create_task(keys.run(stop))
            app.state.http = client
            app.state.own_http = own_calls
            app.state.upstreams = upstreams
            app.state.routes = route_table(settings)
            app.state.bulk_timeouts = bulk_timeouts(settings)
            app.state.slow_routes = slow_routes(settings)
            app.state.slow_timeout = settings.gateway_slow_timeout_seconds
            # Each operation's scope, from the services' own documents (fetched now, refreshed).
            app.state.scopes = ScopeTable()
            app.state.reference = MergedSpecCache(
                settings.openapi_cache_seconds,
                # The gateway's own routes (keys, webhook sources...) get the project's error bodies too.
                lambda: with_error_responses(
                    get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
                ),
                scopes=app.state.scopes,
            )
            refresher = asyncio.create_task(app.state.reference.refresh(own_calls, app.state.routes, stop))
            try:
                yield
            finally:
                stop.set()
                await poller
                await refresher

    app = create_service_app(
        name=SERVICE,
        settings=settings,
        title="Limelight API",
        description="Limelight: find creators, prove their audiences are real, pay them for the sales they drive. "
        "Every service is reached through this gateway under /v1/<service>/.",
        router=api.router,
        resources=resources,
        serve_own_docs=False,
        # docs/guide/gateway.md, "Traffic policy": the order is the policy. PublicProbes answers
        # /readyz and /metrics before the shared health router would; Proxy last: it answers
        # /v1/<service>/... itself, after every other edge layer ran.
        edge=[Cors, AddressRateLimit, BodyLimit, Authenticate, KeyRateLimit, PublicProbes, WebhookReceiver, ClickRedirect,
              PublicForward, Proxy],
        workers=lambda ctx: [DeliveryPruner(ctx)],
    )
    # The gateway's own routes take the caller from its edge (the identity it authenticated),
    # never from an X-Limelight-Identity header a client sent: no verifier key, so any such
    # header is refused.
    app.state.identity_verifier = IdentityVerifier(None, audience=SERVICE)
    # Outermost: security headers and X-Request-ID on every answer, a 500 included.
    app.add_middleware(ResponseHeaders, hsts_seconds=settings.gateway_hsts_seconds)
    return app
