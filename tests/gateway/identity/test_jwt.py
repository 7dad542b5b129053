"""Frontend JWTs through an in-process gateway configured for HS256 (shared secret), RS256 (PEM)
and ES256 (a JWKS endpoint): valid tokens reach the real services; every bad token is a 401
with WWW-Authenticate (a 503 when the provider's keys cannot be fetched), never a 500."""

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from contextlib import asynccontextmanager

import httpx
import jwt
import pytest
import pytest_asyncio

from runtime.admin import new_tenant
from services.gateway.main import create_app
from tests.conftest import bearer
from tests.gateway.fakes import gateway_settings
from tests.gateway.identity.fake_idp import FakeJwks, ec_key, jwk, public_pem, rsa_key
from tests.gateway.identity.helpers import PROBE, REFUSAL_DEADLINE

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

ISSUER = "https://id.brand.test"
AUDIENCE = "limelight"
HS_SECRET = "a-shared-secret-of-at-least-32-characters!"
RSA = rsa_key()
EC = ec_key()
EC_NEXT = ec_key()
STRANGER = rsa_key()  # nobody configured this one


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(tenant_id, **changes) -> dict:
    now = int(time.time())
    base = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "user-42", "tid": str(tenant_id),
        "scope": "discovery:read audits:read", "iat": now, "nbf": now, "exp": now + 300,
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


def sign(payload: dict, key, algorithm: str, kid: str | None = None) -> str:
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid} if kid else None)


def unsigned(header: dict, payload: dict, signature: bytes = b"") -> str:
    """A token assembled by hand: what an attacker sends, not what a library would make."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(signature)}"


def hs256_with_public_key(payload: dict) -> str:
    """The key-confusion attack: HS256 keyed with the RS256 public key everyone may know."""
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = hmac.new(public_pem(RSA).encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@asynccontextmanager
async def jwt_gateway(platform, jwks_url: str, **overrides):
    settings = {
        "gateway_jwt_algorithms": ["HS256", "RS256", "ES256"],
        "gateway_jwt_issuer": ISSUER,
        "gateway_jwt_audience": AUDIENCE,
        "gateway_jwt_hs256_secret": HS_SECRET,
        "gateway_jwt_public_key": public_pem(RSA),
        "gateway_jwt_jwks_url": jwks_url,
    } | overrides
    app = create_app(gateway_settings(platform, **settings))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway", timeout=15
    ) as client:
        yield client


@pytest_asyncio.fixture(scope="module")
async def idp():
    async with FakeJwks(keys=[jwk(EC, "ec-1", "ES256")]) as jwks:
        yield jwks


@pytest_asyncio.fixture(scope="module")
async def client(platform, idp):
    async with jwt_gateway(platform, idp.url) as gateway:
        yield gateway


async def call(client: httpx.AsyncClient, token: str, path: str = PROBE) -> httpx.Response:
    return await client.get(path, params={"limit": 1}, headers=bearer(token))


@pytest.mark.parametrize(
    ("algorithm", "key", "kid"), [("HS256", HS_SECRET, None), ("RS256", RSA, None), ("ES256", EC, "ec-1")]
)
async def test_a_valid_token_reaches_the_service(client, tenant, algorithm, key, kid):
    response = await call(client, sign(claims(tenant.tenant_id), key, algorithm, kid))
    assert response.status_code == 200, response.text


async def test_scopes_come_from_scope_or_scp_and_unknown_ones_are_ignored(client, tenant):
    as_list = sign(claims(tenant.tenant_id, scope=None, scp=["discovery:read", "rockets:launch"]), RSA, "RS256")
    assert (await call(client, as_list)).status_code == 200
    without = sign(claims(tenant.tenant_id, scope="audits:read rockets:launch"), RSA, "RS256")
    response = await call(client, without)
    assert response.status_code == 403 and "discovery:read" in response.json()["detail"]


async def test_admin_in_a_jwt_grants_nothing(client, tenant):
    token = sign(claims(tenant.tenant_id, scope="admin discovery:read"), RSA, "RS256")
    assert (await client.get("/v1/keys", headers=bearer(token))).status_code == 403


def _bad_tokens(tenant_id) -> dict[str, str]:
    """Each bad case and its token; REASONS says why it must be refused."""
    now = int(time.time())
    good = claims(tenant_id)
    return {
        "expired": sign(claims(tenant_id, iat=now - 600, nbf=now - 600, exp=now - 120), RSA, "RS256"),
        "not yet valid (nbf)": sign(claims(tenant_id, nbf=now + 300, exp=now + 600), RSA, "RS256"),
        "issued in the future": sign(claims(tenant_id, iat=now + 300, exp=now + 600), RSA, "RS256"),
        "wrong issuer": sign(claims(tenant_id, iss="https://evil.test"), RSA, "RS256"),
        "wrong audience": sign(claims(tenant_id, aud="another-api"), RSA, "RS256"),
        "alg none": unsigned({"alg": "none", "typ": "JWT"}, good),
        "alg None spelt otherwise": unsigned({"alg": "None"}, good),
        "HS256 keyed with the RS256 public key": hs256_with_public_key(good),
        "RS256 header on an ES256 signature": unsigned({"alg": "RS256", "kid": "ec-1"}, good, b"x" * 64),
        "unknown kid": sign(good, ec_key(), "ES256", kid="no-such-kid"),
        "wrong signature (unconfigured key)": sign(good, STRANGER, "RS256"),
        "wrong HS256 secret": sign(good, "another-secret-that-is-long-enough-too!!", "HS256"),
        "tampered payload": sign(good, RSA, "RS256").rsplit(".", 2)[0] + "."
        + b64(json.dumps(good | {"scope": "discovery:write"}).encode()) + "."
        + sign(good, RSA, "RS256").rsplit(".", 1)[1],
        "lives too long": sign(claims(tenant_id, exp=now + 7200), RSA, "RS256"),
        "no exp": sign(claims(tenant_id, exp=None), RSA, "RS256"),
        "no iat": sign(claims(tenant_id, iat=None), RSA, "RS256"),
        "no sub": sign(claims(tenant_id, sub=None), RSA, "RS256"),
        "exp as a string": sign(claims(tenant_id, exp=str(now + 300)), RSA, "RS256"),
        "no tenant": sign(claims(tenant_id, tid=None), RSA, "RS256"),
        "tenant not an id": sign(claims(tenant_id, tid="acme"), RSA, "RS256"),
        "unknown tenant": sign(claims(uuid.uuid4()), RSA, "RS256"),
        "malformed: one segment": "not-a-jwt",
        "malformed: garbage segments": "abc.def.ghi",
        "malformed: header not JSON": f"{b64(b'{{{')}.{b64(b'{}')}.",
        "malformed: kid not a string": unsigned({"alg": "ES256", "kid": 7}, good),
        "malformed: huge": "a" * 9000,
    }


# What the refusal must say: the token is refused for the reason the case is about, not another.
REASONS = {
    "expired": "expired",
    "not yet valid (nbf)": "(nbf)",
    "issued in the future": "(iat)",
    "wrong issuer": "issuer",
    "wrong audience": "Audience",
    "alg none": "algorithm not accepted",
    "alg None spelt otherwise": "algorithm not accepted",
    "HS256 keyed with the RS256 public key": "signature verification failed",
    "RS256 header on an ES256 signature": "signature verification failed",
    "unknown kid": "unknown kid",
    "wrong signature (unconfigured key)": "signature verification failed",
    "wrong HS256 secret": "signature verification failed",
    "tampered payload": "signature verification failed",
    "lives too long": "lives longer",
    "no exp": '"exp"',
    "no iat": '"iat"',
    "no sub": '"sub"',
    "exp as a string": "must be numbers",
    "no tenant": "'tid'",
    "tenant not an id": "'tid'",
    "unknown tenant": "unknown tenant",
    "malformed: one segment": "malformed",
    "malformed: garbage segments": "malformed",
    "malformed: header not JSON": "malformed",
    "malformed: kid not a string": "malformed",
    "malformed: huge": "malformed",
}
BAD_CASES = list(_bad_tokens(uuid.uuid4()))
assert set(BAD_CASES) == set(REASONS)


@pytest.mark.parametrize("case", BAD_CASES)
async def test_a_bad_token_is_401_with_a_challenge(client, tenant, case):
    token = _bad_tokens(tenant.tenant_id)[case]
    response = await call(client, token)
    assert response.status_code == 401, (case, response.status_code, response.text)
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="limelight"')
    assert response.json()["error"] == "unauthorized"
    assert REASONS[case] in response.json()["detail"]


async def test_a_disabled_tenants_tokens_are_refused_within_5_s(client, platform, operator_tenant):
    made = await new_tenant(platform.service_env("gateway")["DATABASE_URL"], "jwt brand")
    token = sign(claims(made.tenant_id), RSA, "RS256")
    assert (await call(client, token)).status_code == 200
    disabled = await client.patch(
        f"/v1/tenants/{made.tenant_id}", json={"disabled": True}, headers=bearer(operator_tenant.key)
    )
    assert disabled.status_code == 200
    start = time.monotonic()
    while (response := await call(client, token)).status_code == 200:
        assert time.monotonic() - start < REFUSAL_DEADLINE, "a disabled tenant's token still works"
        await asyncio.sleep(0.1)
    assert response.status_code == 401 and "disabled" in response.json()["detail"]


async def test_a_new_signing_key_is_picked_up_by_kid_and_the_retired_one_refused(platform, tenant):
    async with FakeJwks(keys=[jwk(EC, "ec-1", "ES256")]) as idp, jwt_gateway(platform, idp.url) as gateway:
        assert (await call(gateway, sign(claims(tenant.tenant_id), EC, "ES256", "ec-1"))).status_code == 200
        idp.keys = [jwk(EC_NEXT, "ec-2", "ES256"), jwk(RSA, "rsa-1", "RS256")]
        await asyncio.sleep(2.1)  # unknown kids refetch at most every 2 s
        assert (await call(gateway, sign(claims(tenant.tenant_id), EC_NEXT, "ES256", "ec-2"))).status_code == 200
        assert idp.fetches == 2
        # ec-1 is gone from the set: refused after its own (rate-limited) refetch.
        await asyncio.sleep(2.1)
        assert (await call(gateway, sign(claims(tenant.tenant_id), EC, "ES256", "ec-1"))).status_code == 401


async def test_a_flood_of_unknown_kids_fetches_the_key_set_at_most_every_2_s(platform, tenant):
    async with FakeJwks(keys=[jwk(EC, "ec-1", "ES256")]) as idp, jwt_gateway(platform, idp.url) as gateway:
        tokens = [sign(claims(tenant.tenant_id), ec_key(), "ES256", f"made-up-{i}") for i in range(30)]
        responses = await asyncio.gather(*(call(gateway, t) for t in tokens))
        assert {r.status_code for r in responses} == {401}
        assert idp.fetches == 1


@pytest.mark.parametrize("failure", ["unreachable", "500", "garbage"])
async def test_an_unreachable_key_set_is_503_not_401_or_500(platform, tenant, failure):
    async with FakeJwks(keys=[jwk(EC, "ec-1", "ES256")], broken=failure == "500", garbage=failure == "garbage") as idp:
        url = idp.url
        if failure == "unreachable":
            await idp.__aexit__()
        async with jwt_gateway(platform, url, gateway_jwt_algorithms=["ES256"], gateway_jwt_public_key=None) as gateway:
            response = await call(gateway, sign(claims(tenant.tenant_id), EC, "ES256", "ec-1"))
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "unavailable" and "Retry-After" in response.headers


async def test_api_keys_still_work_beside_jwts(client, tenant):
    assert (await call(client, tenant.key)).status_code == 200


async def test_a_gateway_without_jwt_settings_refuses_jwts(anonymous, tenant):
    response = await call(anonymous, sign(claims(tenant.tenant_id), RSA, "RS256"))
    assert response.status_code == 401 and "JWT" in response.json()["detail"]


async def test_while_the_provider_is_down_known_keys_keep_working_and_a_new_kid_is_503(platform, tenant):
    async with FakeJwks(keys=[jwk(EC, "ec-1", "ES256")]) as idp, jwt_gateway(platform, idp.url) as gateway:
        known = sign(claims(tenant.tenant_id), EC, "ES256", "ec-1")
        assert (await call(gateway, known)).status_code == 200
        idp.broken = True
        await asyncio.sleep(2.1)
        response = await call(gateway, sign(claims(tenant.tenant_id), EC_NEXT, "ES256", "ec-2"))
        assert response.status_code == 503 and "Retry-After" in response.headers
        assert (await call(gateway, known)).status_code == 200
        idp.broken = False
        idp.keys = [jwk(EC, "ec-1", "ES256"), jwk(EC_NEXT, "ec-2", "ES256")]
        await asyncio.sleep(2.1)
        assert (await call(gateway, sign(claims(tenant.tenant_id), EC_NEXT, "ES256", "ec-2"))).status_code == 200
