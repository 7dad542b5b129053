"""The installation's keys: generated once, private halves readable by their owner only, and the
files a container deployment mounts are read by the settings."""

import stat
import uuid

from runtime.keys import installation_keys, write_key_files
from services.gateway.config import GatewaySettings
from shared.identity import Identity, IdentitySigner, IdentityVerifier
from shared.settings import ServiceSettings


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_local_keys_are_made_once_and_kept_private(tmp_path):
    first = installation_keys(tmp_path)
    second = installation_keys(tmp_path)
    assert first == second
    for name in ("identity.key", "identity.pub", "secrets.key"):
        assert _mode(tmp_path / "keys" / name) == 0o600
    env = first.service_env("discovery")
    assert set(env) == {"IDENTITY_PUBLIC_KEY"}
    assert {"GATEWAY_IDENTITY_PRIVATE_KEY", "GATEWAY_SECRETS_KEY"} <= set(first.service_env("gateway"))


def test_container_key_files_split_public_from_private_and_are_read_as_settings(tmp_path):
    public, gateway = tmp_path / "public", tmp_path / "gateway"
    written = write_key_files(public, gateway)
    assert len(written) == 3
    assert write_key_files(public, gateway) == []  # a rerun keeps every key
    assert sorted(p.name for p in public.iterdir()) == ["identity_public_key"]
    assert _mode(gateway / "gateway_identity_private_key") == 0o600
    assert _mode(gateway / "gateway_secrets_key") == 0o600

    service = ServiceSettings(database_url="postgresql+asyncpg://x@y/z", _secrets_dir=public)
    edge = GatewaySettings(database_url="postgresql+asyncpg://x@y/z", _secrets_dir=gateway)
    identity = Identity(tenant_id=uuid.uuid4(), subject="key:1", scopes=frozenset({"discovery:read"}))
    token = IdentitySigner(edge.gateway_identity_private_key).token(identity, audience="discovery")
    assert IdentityVerifier(service.identity_public_key, audience="discovery").verify(token).tenant_id == identity.tenant_id


def test_attribution_gets_its_hash_key_and_the_public_key_only(tmp_path):
    from services.attribution.config import AttributionSettings

    keys = installation_keys(tmp_path)
    env = keys.service_env("attribution")
    assert set(env) == {"IDENTITY_PUBLIC_KEY", "ATTRIBUTION_HASH_KEY"} and len(env["ATTRIBUTION_HASH_KEY"]) >= 32
    assert "ATTRIBUTION_HASH_KEY" not in keys.service_env("gateway") | keys.service_env("discovery")
    assert installation_keys(tmp_path).attribution_hash_key == keys.attribution_hash_key  # kept

    public, gateway, attribution = tmp_path / "public", tmp_path / "gateway", tmp_path / "attribution"
    write_key_files(public, gateway, attribution)
    assert sorted(p.name for p in attribution.iterdir()) == ["attribution_hash_key", "identity_public_key"]
    assert _mode(attribution / "attribution_hash_key") == 0o600
    assert (attribution / "identity_public_key").read_text() == (public / "identity_public_key").read_text()
    assert write_key_files(public, gateway, attribution) == []
    settings = AttributionSettings(database_url="postgresql+asyncpg://x@y/z", _secrets_dir=attribution)
    assert settings.attribution_hash_key.get_secret_value() == (attribution / "attribution_hash_key").read_text()
    assert "attribution_hash_key" not in repr(settings).lower() or "**" in repr(settings)
