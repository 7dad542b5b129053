"""The installation's own keys, generated once per state folder and kept 0600 beside the data.

- the gateway's Ed25519 identity key pair: the gateway signs the identity token it sends each
  service with the private half; every service verifies with the public half (docs/decisions/0012);
- the key that encrypts partner webhook secrets at rest in the gateway's schema;
- attribution's hash key: the key of the keyed hashes that stand for a customer or a visitor's
  address (an HMAC key, so a list of e-mails cannot be matched against the hashes without it).

A production deployment sets the same variables from its secret store instead
(IDENTITY_PUBLIC_KEY, GATEWAY_IDENTITY_PRIVATE_KEY, GATEWAY_SECRETS_KEY, ATTRIBUTION_HASH_KEY); these files are for
the local runtime and the test suite only, and never enter the repository (.limelight/ is ignored).
"""

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from shared.identity import generate_keypair


@dataclass(frozen=True)
class InstallationKeys:
    identity_private_pem: str
    identity_public_pem: str
    secrets_key: str
    attribution_hash_key: str

    def service_env(self, service: str) -> dict[str, str]:
        env = {"IDENTITY_PUBLIC_KEY": self.identity_public_pem}
        if service == "gateway":
            env["GATEWAY_IDENTITY_PRIVATE_KEY"] = self.identity_private_pem
            env["GATEWAY_SECRETS_KEY"] = self.secrets_key
        if service == "attribution":
            env["ATTRIBUTION_HASH_KEY"] = self.attribution_hash_key
        return env


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)


def installation_keys(state_dir: Path) -> InstallationKeys:
    folder = state_dir / "keys"
    private, public, secret = folder / "identity.key", folder / "identity.pub", folder / "secrets.key"
    hash_key = folder / "attribution-hash.key"
    if not (private.exists() and public.exists()):
        private_pem, public_pem = generate_keypair()
        _write_private(private, private_pem)
        _write_private(public, public_pem)
    if not secret.exists():
        # A Fernet key: 32 random bytes, URL-safe base64.
        _write_private(secret, base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    if not hash_key.exists():
        _write_private(hash_key, secrets.token_urlsafe(32))
    return InstallationKeys(private.read_text(), public.read_text(), secret.read_text().strip(), hash_key.read_text().strip())


def write_key_files(public_dir: Path, gateway_dir: Path, attribution_dir: Path | None = None) -> list[str]:
    """The keys as Docker-style secret files (one per setting) for a container deployment: the
    services' folder gets only the public key, the gateway's its private keys, attribution's the
    public key and its hash key. Returns what it wrote."""
    written = []
    public_file = public_dir / "identity_public_key"
    private_file = gateway_dir / "gateway_identity_private_key"
    secrets_file = gateway_dir / "gateway_secrets_key"
    if not (public_file.exists() and private_file.exists()):
        private_pem, public_pem = generate_keypair()
        _write_private(private_file, private_pem)
        _write_readable(public_file, public_pem)
        written += [str(public_file), str(private_file)]
    if not secrets_file.exists():
        _write_private(secrets_file, base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        written.append(str(secrets_file))
    if attribution_dir is not None:
        hash_file, its_public = attribution_dir / "attribution_hash_key", attribution_dir / "identity_public_key"
        if not hash_file.exists():
            _write_private(hash_file, secrets.token_urlsafe(32))
            written.append(str(hash_file))
        if not its_public.exists() or its_public.read_text() != public_file.read_text():
            _write_readable(its_public, public_file.read_text())
            written.append(str(its_public))
    return written


def _write_readable(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(0o644)
