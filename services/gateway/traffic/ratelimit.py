"""The two rate-limit layers: per client address in front of authentication, per credential
behind it. A refused request never reaches the next layer; an accepted one on a limited route
carries the RateLimit-* headers of the bucket it was charged to."""

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.identity.edge import is_public
from services.gateway.traffic.policy import TrafficPolicy, bucket_key, tenant_bucket_key
from services.gateway.traffic.responses import adding_headers, too_many_requests
from shared.identity import identity_of

# Public routes that cost a token per request: a click, a look at a shared audit (a guessed
# share-link token costs one like any). /healthz and the reference are left to the load
# balancer: they are cheap and cached, and throttling probes would take replicas out of rotation.
# /webhooks/ has limits of its own (`_webhook`).
ADDRESS_LIMITED_PREFIXES = ("/r/", "/shared/")
WEBHOOKS = "/webhooks/"


def client_address(scope: Scope) -> str:
    """The socket peer's bucket. The gateway runs with --no-proxy-headers; behind a load balancer
    of your own, uvicorn's --forwarded-allow-ips=<balancer> puts the client's address here
    instead. An IPv6 client is limited by its /64: one subscriber usually holds a whole /64 and
    could otherwise take a new address, and a new bucket, per request."""
    client = scope.get("client")
    if not client:
        return "unknown"
    address = client[0]
    if ":" in address:
        try:
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        except ValueError:
            return address
    return address


class AddressRateLimit:
    """Public routes take a token of the client address's bucket per request. Failed
    authentications (401) have a bucket of their own per address, with the same limit, charged
    after the fact: an address whose failure bucket is empty is refused on every non-public route
    before its credential is even looked at, so a flood of made-up keys costs neither key lookups
    nor database queries, and busy public traffic from an address never blocks its API calls.
    The buckets are per replica (in memory)."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.policy: TrafficPolicy | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.startswith(WEBHOOKS):
            await self._webhook(scope, receive, send)
            return
        if path.startswith(ADDRESS_LIMITED_PREFIXES):
            policy = self.policy or self._bind(scope)
            decision = policy.addresses.take(client_address(scope), policy.address_limit)
            if not decision.allowed:
                await too_many_requests(decision, "too many requests from this address")(scope, receive, send)
                return
            await self.app(scope, receive, adding_headers(send, decision.headers()))
            return
        if is_public(path) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        policy = self.policy or self._bind(scope)
        address = "failed:" + client_address(scope)
        limit = policy.address_limit
        addresses = policy.addresses
        if addresses.peek(address, limit) < 1:
            decision = addresses.take(address, limit)
            await too_many_requests(decision, "too many failed authentications from this address")(scope, receive, send)
            return

        async def charge_failures(message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                addresses.take(address, limit)
            await send(message)

        await self.app(scope, receive, charge_failures)

    async def _webhook(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Partner webhooks (ADR 0038). A partner may send everything from one host, in bursts: the
        address's bucket is the partner-sized `webhook_address_limit`. What bounds abuse is what
        only abuse does: failing. Every 4xx but 429 (unknown source, bad signature, oversized or
        malformed delivery) takes a token from the failure bucket of the address and the source
        named in the path (GATEWAY_ADDRESS_RATE_LIMIT's size), and an address whose bucket for that
        source is empty is refused before the source is even looked up. Each source's accepted deliveries
        (200 `accepted`, not a replayed `duplicate` nor an `ignored` topic: the receiver says which
        in the scope's state) take from the source's bucket after the fact, so only the holder of
        its secret sending new deliveries can spend it; a source whose bucket is empty is refused
        (429: partners retry)."""
        policy = self.policy or self._bind(scope)
        addresses = policy.addresses
        address = client_address(scope)
        source_id = scope["path"].rstrip("/").rsplit("/", 1)[-1][:64]
        # Failures are counted per address *and* source: a partner's shared egress addresses
        # (Shopify sends every shop's webhooks from a few) carry many tenants' sources, and one
        # tenant's stale secret or deleted source must not get the others' deliveries refused.
        # Probing many source ids from one address is bounded by the webhook address limit.
        failed = f"failed:{address}:{source_id}"
        if addresses.peek(failed, policy.address_limit) < 1:
            decision = addresses.take(failed, policy.address_limit)
            await too_many_requests(decision, "too many failed deliveries from this address to this webhook source")(
                scope, receive, send)
            return
        source = "webhook-source:" + source_id
        if addresses.peek(source, policy.webhook_source_limit) < 1:
            decision = addresses.take(source, policy.webhook_source_limit)
            await too_many_requests(decision, "this webhook source's rate limit is exceeded")(scope, receive, send)
            return
        decision = addresses.take("webhook:" + address, policy.webhook_address_limit)
        if not decision.allowed:
            await too_many_requests(decision, "too many requests from this address")(scope, receive, send)
            return

        async def charge(message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 200 and scope.get("state", {}).get("webhook_outcome") == "accepted":
                    addresses.take(source, policy.webhook_source_limit)
                elif 400 <= status < 500 and status != 429:
                    addresses.take(failed, policy.address_limit)
            await send(message)

        await self.app(scope, receive, adding_headers(charge, decision.headers()))

    def _bind(self, scope: Scope) -> TrafficPolicy:
        self.policy = scope["app"].state.traffic
        return self.policy


class KeyRateLimit:
    """The credential's plan, shared by every replica (services/gateway/traffic/leases.py).
    Behind `Authenticate`: a request without an identity here is public and passes."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.policy: TrafficPolicy | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        identity = identity_of(scope) if scope["type"] == "http" else None
        if identity is None:
            await self.app(scope, receive, send)
            return
        policy = self.policy or self._bind(scope)
        decision = await self._take(policy, bucket_key(identity), policy.plan_limit(identity.plan))
        if not decision.allowed:
            await too_many_requests(decision, "rate limit of this credential's plan exceeded")(scope, receive, send)
            return
        workspace = await self._take(policy, tenant_bucket_key(identity), policy.tenant_limit(identity.plan))
        if not workspace.allowed:
            await too_many_requests(workspace, "rate limit of this workspace's plan exceeded")(scope, receive, send)
            return
        # The headers of whichever bucket is nearer to empty, relative to its size.
        tighter = min(decision, workspace, key=lambda d: d.remaining / d.limit.burst)
        await self.app(scope, receive, adding_headers(send, tighter.headers()))

    @staticmethod
    async def _take(policy: TrafficPolicy, key: str, limit):
        decision = policy.keys.take_now(key, limit)
        if decision is None:
            decision = await policy.keys.take(key, limit)
        return decision

    def _bind(self, scope: Scope) -> TrafficPolicy:
        self.policy = scope["app"].state.traffic
        return self.policy
