"""README and ADRs 0012, 0015, 0018: secrets never appear in logs. A key, a webhook secret and an
identity token go through the running platform's gateway and services, good and bad, and then
no log line of any process holds one of them."""

import base64
import hashlib
import hmac
import time

import pytest

from services.gateway.config import GatewaySettings
from services.gateway.main import create_app
from tests.runtime.helpers import log_lines

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# The first bytes of every identity token the gateway signs ({"alg":"EdDSA",...} in base64url).
TOKEN_HEADER = base64.urlsafe_b64encode(b'{"alg":"EdDSA"').decode()[:16]


async def test_keys_webhook_secrets_and_identity_tokens_are_never_logged(platform, tenant, gateway, anonymous):
    source = (await gateway.post("/v1/webhook-sources", json={"kind": "generic", "name": "log probe"})).json()
    secret = source["secret"]
    body = b'{"probe": true}'
    t = int(time.time())
    good = "v1=" + hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert (await anonymous.post(source["url"], content=body, headers={"Limelight-Signature": f"t={t},{good}"})).status_code == 200
    assert (await anonymous.post(source["url"], content=body, headers={"Limelight-Signature": f"t={t},v1={'0' * 64}"})).status_code == 401
    made = (await gateway.post("/v1/keys", json={"name": "log probe", "scopes": ["discovery:read"]})).json()["key"]
    assert (await gateway.get("/v1/discovery/creators", headers={"Authorization": f"Bearer {made}"})).status_code == 200
    assert (await gateway.post("/v1/discovery/creators", headers={"Authorization": f"Bearer {made}"}, json={})).status_code == 403
    assert (await anonymous.get("/v1/discovery/creators", headers={"Authorization": f"Bearer {made[:-2]}xx"})).status_code == 401

    for service in ("gateway", "discovery", "audit", "attribution"):
        text = "\n".join(log_lines(platform.s.logs_dir, service))
        for name, value in {"API key": made, "suite key": tenant.key, "webhook secret": secret}.items():
            assert value not in text, f"{service} logged a {name}"
        assert TOKEN_HEADER not in text, f"{service} logged an identity token"


async def test_a_gateway_without_its_signing_key_does_not_start():
    """ADR 0012: fail closed; without the key no service would believe the gateway anyway."""
    settings = GatewaySettings(database_url="postgresql+asyncpg://unused/unused", gateway_identity_private_key=None)
    with pytest.raises(RuntimeError, match="GATEWAY_IDENTITY_PRIVATE_KEY"):
        create_app(settings)
