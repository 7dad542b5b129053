"""A JWT configuration that could never verify a token is refused when the gateway starts."""

import pytest
from pydantic import ValidationError

from services.gateway.config import GatewaySettings
from services.gateway.identity.jwt import jwt_verifier, load_public_keys
from tests.gateway.identity.fake_idp import ec_key, public_pem, rsa_key

DB = "postgresql+asyncpg://nobody@127.0.0.1/none"
COMPLETE = {"gateway_jwt_issuer": "https://id.test", "gateway_jwt_audience": "limelight"}


def test_jwts_are_off_without_algorithms():
    assert jwt_verifier(GatewaySettings(database_url=DB), tenants=None) is None


def test_algorithms_are_read_comma_separated_from_the_environment(monkeypatch):
    monkeypatch.setenv("GATEWAY_JWT_ALGORITHMS", "RS256, ES256")
    monkeypatch.setenv("GATEWAY_JWT_JWKS_URL", "https://id.test/jwks")
    settings = GatewaySettings(database_url=DB, **COMPLETE)
    assert settings.gateway_jwt_algorithms == ["RS256", "ES256"]


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"gateway_jwt_algorithms": ["none"]} | COMPLETE, "gateway_jwt_algorithms"),
        ({"gateway_jwt_algorithms": ["HS512"]} | COMPLETE, "gateway_jwt_algorithms"),
        ({"gateway_jwt_algorithms": ["RS256"], "gateway_jwt_jwks_url": "https://id.test/jwks"}, "ISSUER"),
        ({"gateway_jwt_algorithms": ["HS256"]} | COMPLETE, "HS256_SECRET"),
        ({"gateway_jwt_algorithms": ["HS256"], "gateway_jwt_hs256_secret": "short"} | COMPLETE, "32"),
        ({"gateway_jwt_algorithms": ["ES256"]} | COMPLETE, "JWKS_URL"),
    ],
)
def test_an_incomplete_jwt_configuration_is_refused(values, reason):
    with pytest.raises(ValidationError) as refused:
        GatewaySettings(database_url=DB, **values)
    assert reason in str(refused.value)


def test_several_pem_keys_are_read_and_a_non_key_is_refused():
    keys = load_public_keys(public_pem(rsa_key()) + public_pem(ec_key()))
    assert len(keys) == 2
    with pytest.raises(ValueError):
        load_public_keys("not a key")
