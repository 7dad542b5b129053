"""shared/identity.py on its own: what a service accepts as the gateway's word, and what it refuses."""

import time
import uuid

import jwt
import pytest
from fastapi import APIRouter, FastAPI

from shared.errors import Unauthorized
from shared.identity import (
    ALGORITHM,
    ISSUER,
    Identity,
    IdentitySigner,
    IdentityVerifier,
    check_routes_declare_scopes,
    generate_keypair,
    public,
    requires,
)

PRIVATE, PUBLIC = generate_keypair()
IDENTITY = Identity(
    tenant_id=uuid.uuid4(), subject="key:k1", scopes=frozenset({"discovery:read"}), key_id="k1", request_id="r1"
)


def claims(**changes):
    now = int(time.time())
    base = {"iss": ISSUER, "aud": "discovery", "iat": now, "nbf": now, "exp": now + 60, "sub": "key:k1",
            "tid": str(IDENTITY.tenant_id), "scp": ["discovery:read"]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(payload, key=None, algorithm=ALGORITHM) -> str:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key((key or PRIVATE).encode(), password=None)
    return jwt.encode(payload, private, algorithm=algorithm)


def test_a_token_from_the_gateway_round_trips_every_field():
    token = IdentitySigner(PRIVATE).token(IDENTITY, audience="discovery")
    assert IdentityVerifier(PUBLIC, "discovery").verify(token) == IDENTITY


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: signed(claims(), key=generate_keypair()[0]), id="another-signer"),
        pytest.param(lambda: signed(claims(aud="audit")), id="another-audience"),
        pytest.param(lambda: signed(claims(iss="someone-else")), id="another-issuer"),
        pytest.param(lambda: signed(claims(exp=int(time.time()) - 60)), id="expired"),
        pytest.param(lambda: signed(claims(nbf=int(time.time()) + 120)), id="not-yet-valid"),
        pytest.param(lambda: signed(claims(tid=None)), id="no-tenant"),
        pytest.param(lambda: signed(claims(tid="not-a-uuid")), id="malformed-tenant"),
        pytest.param(lambda: jwt.encode(claims(), None, algorithm="none"), id="alg-none"),
        pytest.param(lambda: jwt.encode(claims(), "a-shared-secret-of-32-bytes-long!", algorithm="HS256"), id="hs256"),
        pytest.param(lambda: "not.a.token", id="garbage"),
    ],
)
def test_the_service_refuses(token):
    with pytest.raises(Unauthorized):
        IdentityVerifier(PUBLIC, "discovery").verify(token())


def test_during_a_key_rotation_both_public_keys_are_accepted():
    new_private, new_public = generate_keypair()
    verifier = IdentityVerifier(PUBLIC + new_public, "discovery")
    for private in (PRIVATE, new_private):
        assert verifier.verify(IdentitySigner(private).token(IDENTITY, "discovery")).tenant_id == IDENTITY.tenant_id


def test_a_service_without_a_key_refuses_everyone():
    with pytest.raises(Unauthorized):
        IdentityVerifier(None, "discovery").verify(IdentitySigner(PRIVATE).token(IDENTITY, "discovery"))


def test_an_app_with_a_route_that_declares_no_scope_does_not_assemble():
    app = FastAPI()
    router = APIRouter()

    @router.get("/declared", dependencies=[requires("discovery:read")])
    async def declared() -> dict:
        return {}

    @router.get("/open", dependencies=[public()])
    async def open_route() -> dict:
        return {}

    app.include_router(router)
    check_routes_declare_scopes(app)

    @app.get("/forgotten")
    async def forgotten() -> dict:
        return {}

    with pytest.raises(RuntimeError, match="/forgotten"):
        check_routes_declare_scopes(app)


def test_an_unknown_scope_is_a_programming_error():
    with pytest.raises(ValueError):
        requires("discovery:delete")


def test_a_hidden_route_must_declare_its_scope_too():
    app = FastAPI()

    @app.get("/hidden", include_in_schema=False)
    async def hidden() -> dict:
        return {}

    with pytest.raises(RuntimeError, match="/hidden"):
        check_routes_declare_scopes(app)
