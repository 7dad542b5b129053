"""Who is calling: the verified identity the gateway passes to every service.

The gateway authenticates the caller (API key or JWT), checks the route's scope and then sends
the service a short-lived token it signed with its own Ed25519 key (`X-Limelight-Identity`).
A service trusts nothing else: not a bare tenant header, not a client's own token. It verifies
that token with `IdentityVerifier` (public key only, so a service can never mint one) and hands
handlers an `Identity` through the `Principal` dependency. See docs/decisions/0012.

Every route of every service declares the scope it needs, once, in its decorator:

    @router.get("", dependencies=[requires("discovery:read")])
    async def list_creators(principal: Principal, ...): ...

`check_routes_declare_scopes` (run when the app is assembled) refuses to start a service with a
route that declares none, so a new route cannot be forgotten.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, FastAPI, Request, Security
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import APIKeyHeader, SecurityScopes

from shared.errors import Forbidden, Unauthorized

# Every scope a credential can hold, with what it allows. `admin` on an ordinary tenant
# manages that tenant's own keys; on the installation's operator tenant it also manages tenants.
SCOPES: dict[str, str] = {
    "discovery:read": "Search and read the creator index, and read your shortlists.",
    "discovery:write": "Add and change creators in the index, and change your shortlists.",
    "audits:read": "Read authenticity audits.",
    "audits:write": "Request and change authenticity audits.",
    "attribution:read": "Read your campaigns, codes, links, orders, ledger and reports.",
    "attribution:write": "Change your campaigns, codes, links and commission rules.",
    "webhooks:manage": "Register, rotate and remove your partner webhook sources.",
    "admin": "Manage your workspace's API keys; on the operator workspace, manage tenants too.",
}

IDENTITY_HEADER = "X-Limelight-Identity"
ISSUER = "limelight-gateway"
ALGORITHM = "EdDSA"
# Long enough for a slow upstream to start handling the request, short enough that a stolen
# token (from a service's log, say) is useless almost at once.
TOKEN_TTL_SECONDS = 60
# Clock difference tolerated between the gateway's host and a service's.
LEEWAY_SECONDS = 5

# The marker scope of routes anyone may call (the click redirect): they still pass through the
# declaration check, so being public is a decision, not an omission.
PUBLIC = "public"


@dataclass(frozen=True, slots=True)
class Identity:
    """A verified caller. `subject` is `key:<key id>` for an API key or the JWT's `sub`."""

    tenant_id: uuid.UUID
    subject: str
    scopes: frozenset[str]
    key_id: str | None = None
    request_id: str | None = None
    operator: bool = False
    plan: str = "standard"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def has(self, scope: str) -> bool:
        return scope in self.scopes


# --- keys -------------------------------------------------------------------------------------


def generate_keypair() -> tuple[str, str]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


def _public_keys(pems: str) -> list[Ed25519PublicKey]:
    """One or more concatenated PEM public keys (several during a key rotation)."""
    keys = []
    marker = "-----END PUBLIC KEY-----"
    for chunk in pems.split(marker):
        if "-----BEGIN PUBLIC KEY-----" not in chunk:
            continue
        key = serialization.load_pem_public_key((chunk.strip() + "\n" + marker + "\n").encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the identity public key must be an Ed25519 key")
        keys.append(key)
    if not keys:
        raise ValueError("no PEM public key found")
    return keys


class IdentitySigner:
    """The gateway's half: one token per forwarded request."""

    def __init__(self, private_key_pem: str, ttl_seconds: int = TOKEN_TTL_SECONDS):
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the identity private key must be an Ed25519 key")
        self._key = key
        self._ttl = ttl_seconds

    def token(self, identity: Identity, audience: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": audience,
            "iat": now,
            "nbf": now - 1,
            "exp": now + self._ttl,
            "sub": identity.subject,
            "tid": str(identity.tenant_id),
            "scp": sorted(identity.scopes),
            "plan": identity.plan,
        }
        if identity.key_id:
            claims["kid"] = identity.key_id
        if identity.request_id:
            claims["rid"] = identity.request_id
        if identity.operator:
            claims["op"] = True
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


class IdentityVerifier:
    """A service's half: verifies the gateway's token with its public key(s)."""

    def __init__(self, public_keys_pem: str | None, audience: str):
        # No key configured: every request is refused (fail closed), never let through.
        self._keys = _public_keys(public_keys_pem) if public_keys_pem else []
        self._audience = audience

    def verify(self, token: str) -> Identity:
        if not self._keys:
            raise Unauthorized("this service has no identity key configured; it accepts no calls")
        last: Exception | None = None
        for key in self._keys:
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    audience=self._audience,
                    issuer=ISSUER,
                    leeway=LEEWAY_SECONDS,
                    options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "tid", "scp"]},
                )
                break
            except jwt.InvalidSignatureError as exc:  # try the next key of a rotation
                last = exc
            except jwt.PyJWTError as exc:
                raise Unauthorized(f"identity token rejected: {exc}") from exc
        else:
            raise Unauthorized("identity token rejected: signature verification failed") from last
        try:
            return Identity(
                tenant_id=uuid.UUID(claims["tid"]),
                subject=str(claims["sub"]),
                scopes=frozenset(str(s) for s in claims["scp"]),
                key_id=claims.get("kid"),
                request_id=claims.get("rid"),
                operator=bool(claims.get("op", False)),
                plan=str(claims.get("plan", "standard")),
            )
        except (TypeError, ValueError) as exc:
            raise Unauthorized("identity token rejected: malformed claims") from exc


# --- FastAPI ----------------------------------------------------------------------------------

# Documents the header in each service's own OpenAPI; the gateway's merged reference replaces
# it with the public schemes (API key, JWT) and keeps the scopes.
identity_scheme = APIKeyHeader(
    name=IDENTITY_HEADER,
    scheme_name="LimelightIdentity",
    description="Signed identity token minted by the gateway for each request. Call the gateway, not the "
    "service: a service reached directly without one answers 401.",
    auto_error=False,
)

_STATE_KEY = "principal"


def _verifier(request: Request) -> IdentityVerifier:
    verifier = getattr(request.app.state, "identity_verifier", None)
    if verifier is None:
        raise Unauthorized("this service has no identity key configured; it accepts no calls")
    return verifier


def current_identity(request: Request, token: Annotated[str | None, Security(identity_scheme)] = None) -> Identity:
    """The request's verified identity.

    In the gateway the edge middleware has already authenticated the caller and put the
    identity in the request state (clients cannot write there). In a service it comes only from
    the gateway's signed token.
    """
    found = request.scope.get("state", {}).get(_STATE_KEY)
    if isinstance(found, Identity):
        return found
    if not token:
        raise Unauthorized("missing identity: call the service through the gateway")
    identity = _verifier(request).verify(token)
    request.scope.setdefault("state", {})[_STATE_KEY] = identity
    return identity


def set_identity(scope: dict, identity: Identity) -> None:
    """For the gateway's edge: the caller it authenticated."""
    scope.setdefault("state", {})[_STATE_KEY] = identity


def identity_of(scope: dict) -> Identity | None:
    found = scope.get("state", {}).get(_STATE_KEY)
    return found if isinstance(found, Identity) else None


Principal = Annotated[Identity, Depends(current_identity)]


def _check_scopes(security_scopes: SecurityScopes, identity: Principal) -> Identity:
    for scope in security_scopes.scopes:
        if not identity.has(scope):
            raise Forbidden(f"this credential lacks the '{scope}' scope")
    return identity


def requires(scope: str):
    """The dependency a route declares: its caller must hold `scope`. Shown in OpenAPI."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    return Security(_check_scopes, scopes=[scope])


async def _public_marker() -> None:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per click.
    return None


def public():
    """The declaration of a route that needs no credentials (the click redirect)."""
    return Security(_public_marker, scopes=[PUBLIC])


def api_routes(routes: list[Any]) -> list[Any]:
    """Every API route of an app or router, at its full path, however deeply included.

    FastAPI resolves included routers lazily: `app.routes` holds one entry per included router,
    not its routes. Each item has the route's `path_format`, `methods`, `include_in_schema` and
    `dependant` as the app serves them (prefix and router-level dependencies applied).
    """
    return [ctx for ctx in iter_route_contexts(routes) if isinstance(ctx.original_route, APIRoute)]


def declared_scope(route: APIRoute) -> str | None:
    """The scope a route declared with `requires()` / `public()`, or None."""
    for dependency in route.dependant.dependencies:
        if dependency.call in (_check_scopes, _public_marker):
            scopes = getattr(dependency, "own_oauth_scopes", None) or getattr(dependency, "scopes", None) or []
            if scopes:
                return scopes[0]
    return None


def check_routes_declare_scopes(app: FastAPI, exempt: frozenset[str] = frozenset()) -> None:
    """Refuse to assemble an app with a route that declares no scope, documented or not: a
    hidden route is as reachable as any other (the probes declare `public()`)."""
    missing = []
    for route in api_routes(app.routes):
        if route.path_format in exempt:
            continue
        if declared_scope(route) is None:
            missing.append(f"{sorted(route.methods)} {route.path_format}")
    if missing:
        raise RuntimeError(f"routes without a declared scope (use shared.identity.requires): {missing}")
