"""Frontend apps' JWTs: a short-lived token from the installation's identity provider, verified
with PyJWT against the configured algorithms and keys (docs/decisions/0018).

The algorithm is taken from the token's header only to pick a key, and only from the allowed
list: each algorithm has its own key material (the HS256 secret for HS256, RSA keys for RS256,
P-256 keys for ES256), so `alg: none` or a public key replayed as an HMAC secret has nothing to
verify against. Then `iss`, `aud`, `exp`, `nbf` and `iat` are checked, the token's lifetime is
capped, and its tenant must exist and be enabled (looked up through the key store's cache, so a
disabled tenant is refused within seconds on every replica).
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from services.gateway.config import GatewaySettings
from services.gateway.identity.store import CachedTenant
from shared.errors import Unauthorized, Unavailable
from shared.identity import SCOPES, Identity

log = logging.getLogger(__name__)

# A JWT from a browser is a few hundred bytes; anything this long is not one of ours, and is
# refused before any parsing.
MAX_TOKEN_CHARS = 8192
# A token naming a kid we do not know makes us fetch the JWKS again, at most this often: a
# flood of made-up kids must not become a flood of requests to the identity provider.
JWKS_REFETCH_SECONDS = 2.0
JWKS_TIMEOUT_SECONDS = 3.0
# Scopes a JWT can grant. `admin` is left out on purpose: a browser session never manages keys
# or tenants; that takes an API key (docs/decisions/0018).
JWT_SCOPES = frozenset(SCOPES) - {"admin"}
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


class TenantLookup(Protocol):
    async def tenant(self, tenant_id: uuid.UUID) -> CachedTenant: ...


def _key_fits(algorithm: str, key: Any) -> bool:
    if algorithm == "RS256":
        return isinstance(key, rsa.RSAPublicKey)
    if algorithm == "ES256":
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    return False


def load_public_keys(pems: str) -> list[Any]:
    """RSA and EC public keys from one or more concatenated PEM blocks."""
    found = []
    marker = "-----END PUBLIC KEY-----"
    for chunk in pems.split(marker):
        if "-----BEGIN PUBLIC KEY-----" not in chunk:
            continue
        key = serialization.load_pem_public_key((chunk.strip() + "\n" + marker + "\n").encode())
        if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            raise ValueError("GATEWAY_JWT_PUBLIC_KEY holds a key that is neither RSA nor EC")
        found.append(key)
    if not found:
        raise ValueError("GATEWAY_JWT_PUBLIC_KEY holds no PEM public key")
    return found


class JwksKeys:
    """The identity provider's signing keys, fetched from its JWKS URL and picked by `kid`.

    Fetched with httpx on the event loop (never PyJWKClient's blocking urllib). Kept for
    `cache_seconds`; if a refresh fails the keys in hand are used until the provider is back.
    A token naming an unknown kid (the provider rotated) triggers one refetch, at most every
    JWKS_REFETCH_SECONDS; still unknown after it: 401. When the provider does not answer and the
    token's key is not in hand: 503, so the caller retries instead of believing its token is bad.
    """

    def __init__(self, url: str, cache_seconds: float):
        self.url = url
        self.cache_seconds = cache_seconds
        self._keys: list[jwt.PyJWK] | None = None
        self._fetched = float("-inf")  # last successful fetch
        self._attempted = float("-inf")  # last attempt, successful or not
        self._reachable = False  # whether that attempt succeeded
        self._lock = asyncio.Lock()

    async def _fetch(self) -> list[jwt.PyJWK]:
        async with httpx.AsyncClient(timeout=JWKS_TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await client.get(self.url)
            response.raise_for_status()
            document = response.json()
        keys = jwt.PyJWKSet.from_dict(document).keys
        return [k for k in keys if k.key_type in ("RSA", "EC") and k.public_key_use in (None, "sig")]

    async def _refresh(self) -> None:
        """Fetch again, unless some request tried within JWKS_REFETCH_SECONDS (then its result
        stands: concurrent requests share one fetch, and an outage is not hammered)."""
        async with self._lock:
            if time.monotonic() - self._attempted < JWKS_REFETCH_SECONDS:
                return
            self._attempted = time.monotonic()
            try:
                self._keys = await self._fetch()
                self._fetched = time.monotonic()
                self._reachable = True
            except (httpx.HTTPError, ValueError, TypeError, AttributeError, jwt.PyJWTError) as exc:
                # Not the URL or the body: they may name internal hosts. The type says enough.
                log.warning("JWKS fetch failed", extra={"error": type(exc).__name__})
                self._reachable = False

    async def candidates(self, algorithm: str, kid: str | None) -> list[Any]:
        if self._keys is None or time.monotonic() - self._fetched > self.cache_seconds:
            await self._refresh()
        if self._keys is None:
            raise Unavailable("the identity provider's keys cannot be fetched; retry shortly")
        found = self._matching(algorithm, kid)
        if not found and kid is not None:
            await self._refresh()
            found = self._matching(algorithm, kid)
            if not found and not self._reachable:
                # Perhaps a key the provider rotated in while it is down: not the token's fault.
                raise Unavailable("the identity provider's keys cannot be fetched; retry shortly")
        return found

    def _matching(self, algorithm: str, kid: str | None) -> list[Any]:
        return [
            k.key for k in self._keys or []
            if k.algorithm_name == algorithm and (kid is None or k.key_id == kid) and _key_fits(algorithm, k.key)
        ]


class JwtVerifier:
    """`TokenVerifier` (authenticator.py) for JWTs: the token's verified Identity, or 401."""

    def __init__(
        self,
        *,
        algorithms: Sequence[str],
        issuer: str,
        audience: str,
        tenants: TenantLookup,
        hs256_secret: str | None = None,
        public_keys: Sequence[Any] = (),
        jwks: JwksKeys | None = None,
        max_lifetime_seconds: int = 3600,
        leeway_seconds: int = 30,
        tenant_claim: str = "tid",
    ):
        self.algorithms = frozenset(algorithms)
        self.issuer = issuer
        self.audience = audience
        self.tenants = tenants
        self.hs256_secret = hs256_secret.encode() if hs256_secret else None
        self.public_keys = list(public_keys)
        self.jwks = jwks
        self.max_lifetime = max_lifetime_seconds
        self.leeway = leeway_seconds
        self.tenant_claim = tenant_claim

    async def _keys_for(self, algorithm: str, kid: str | None) -> list[Any]:
        if algorithm == "HS256":
            return [self.hs256_secret] if self.hs256_secret else []
        keys = [k for k in self.public_keys if _key_fits(algorithm, k)]
        if self.jwks is not None:
            keys += await self.jwks.candidates(algorithm, kid)
        return keys

    async def verify(self, token: str) -> Identity:
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthorized("malformed token: too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            raise Unauthorized(f"token algorithm not accepted; accepted: {sorted(self.algorithms)}")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthorized("malformed token: kid must be a string")
        keys = await self._keys_for(algorithm, kid)
        if not keys:
            raise Unauthorized("no key known for this token (unknown kid)" if kid else "no key known for this token")
        claims = self._decode(token, algorithm, keys)
        return await self._identity(claims)

    def _decode(self, token: str, algorithm: str, keys: list[Any]) -> dict[str, Any]:
        for key in keys:
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=[algorithm],
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=self.leeway,
                    options={"require": REQUIRED_CLAIMS},
                )
            except jwt.InvalidSignatureError:  # try the next key (a rotation, or no kid)
                continue
            except jwt.PyJWTError as exc:
                raise Unauthorized(f"token rejected: {exc}") from exc
        raise Unauthorized("token rejected: signature verification failed")

    async def _identity(self, claims: dict[str, Any]) -> Identity:
        exp, iat = claims["exp"], claims["iat"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (exp, iat)):
            raise Unauthorized("token rejected: exp and iat must be numbers")
        if exp - iat > self.max_lifetime:
            raise Unauthorized(f"token rejected: lives longer than {self.max_lifetime} s (exp - iat)")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise Unauthorized("token rejected: sub must be a non-empty string")
        try:
            tenant_id = uuid.UUID(str(claims[self.tenant_claim]))
        except (KeyError, ValueError) as exc:
            raise Unauthorized(f"token rejected: claim '{self.tenant_claim}' must be a tenant id") from exc
        tenant = await self.tenants.tenant(tenant_id)
        if not tenant.exists:
            raise Unauthorized("token rejected: unknown tenant")
        if tenant.disabled:
            raise Unauthorized("this workspace is disabled")
        return Identity(
            tenant_id=tenant_id,
            subject=claims["sub"],
            scopes=_scopes(claims) & JWT_SCOPES,
            operator=tenant.operator,
            plan=tenant.plan,
        )


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    """OAuth's space-separated `scope` (RFC 8693 section 4.2) and/or a `scp` list; unknown names
    are ignored rather than refused, so a provider may issue scopes for other APIs too."""
    found: set[str] = set()
    scope = claims.get("scope")
    if isinstance(scope, str):
        found.update(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, str):
        found.update(scp.split())
    elif isinstance(scp, list):
        found.update(s for s in scp if isinstance(s, str))
    return frozenset(found)


def jwt_verifier(settings: GatewaySettings, tenants: TenantLookup) -> JwtVerifier | None:
    """The configured verifier, or None when no JWT algorithm is enabled."""
    if not settings.gateway_jwt_algorithms:
        return None
    return JwtVerifier(
        algorithms=settings.gateway_jwt_algorithms,
        issuer=settings.gateway_jwt_issuer or "",
        audience=settings.gateway_jwt_audience or "",
        tenants=tenants,
        hs256_secret=settings.gateway_jwt_hs256_secret,
        public_keys=load_public_keys(settings.gateway_jwt_public_key) if settings.gateway_jwt_public_key else (),
        jwks=JwksKeys(settings.gateway_jwt_jwks_url, settings.gateway_jwt_jwks_cache_seconds)
        if settings.gateway_jwt_jwks_url
        else None,
        max_lifetime_seconds=settings.gateway_jwt_max_lifetime_seconds,
        leeway_seconds=settings.gateway_jwt_leeway_seconds,
        tenant_claim=settings.gateway_jwt_tenant_claim,
    )
