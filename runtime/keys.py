"""The installation's own keys, generated once per state folder and kept 0600 beside the data.

- the gateway's Ed25519 identity key pair: the gateway signs the identity token it sends each
  service with the private half; every service verifies with the public half (docs/decisions/0012);
- the key that encrypts partner webhook secrets at rest in the gateway's schema.

A production deployment sets the same variables from its secret store instead
(IDENTITY_PUBLIC_KEY, GATEWAY_IDENTITY_PRIVATE_KEY, GATEWAY_SECRETS_KEY); these files are for
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

    def service_env(self, service: str) -> dict[str, str]:
        env = {"IDENTITY_PUBLIC_KEY": self.identity_public_pem}
        if service == "gateway":
            env["GATEWAY_IDENTITY_PRIVATE_KEY"] = self.identity_private_pem
            env["GATEWAY_SECRETS_KEY"] = self.secrets_key
        return env


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)


def installation_keys(state_dir: Path) -> InstallationKeys:
    folder = state_dir / "keys"
    private, public, secret = folder / "identity.key", folder / "identity.pub", folder / "secrets.key"
    if not (private.exists() and public.exists()):
        private_pem, public_pem = generate_keypair()
        _write_private(private, private_pem)
        _write_private(public, public_pem)
    if not secret.exists():
        # A Fernet key: 32 random bytes, URL-safe base64.
        _write_private(secret, base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    return InstallationKeys(private.read_text(), public.read_text(), secret.read_text().strip())


def write_key_files(public_dir: Path, gateway_dir: Path) -> list[str]:
    """The keys as Docker-style secret files (one per setting) for a container deployment: the
    services' folder gets only the public key, the gateway's its private keys. Returns what it wrote."""
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
    return written


def _write_readable(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(0o644)
