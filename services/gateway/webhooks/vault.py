"""Signing secrets encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`).

`GATEWAY_SECRETS_KEY` holds one or more Fernet keys, comma-separated, newest first: new secrets
are encrypted with the first, and any of them decrypts, so the key can be rotated by putting a
new key in front and keeping the old one until every source has been re-encrypted
(`Vault.reencrypt`, which a source's next write applies).
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from fastapi import Request

from shared.errors import Unavailable


class Vault:
    def __init__(self, keys: str):
        fernets = [Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()]
        if not fernets:
            raise ValueError("GATEWAY_SECRETS_KEY holds no Fernet key")
        self._fernet = MultiFernet(fernets)

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            # The key that encrypted it was removed from GATEWAY_SECRETS_KEY: an operator error,
            # not the partner's; they retry once it is fixed.
            raise Unavailable("the gateway cannot read this source's secret; its operator must restore the key") from None

    def reencrypt(self, token: str) -> str:
        """`token` under the newest key (unchanged secret)."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")


async def app_vault(request: Request) -> Vault:
    """The app's vault, built on first use from GATEWAY_SECRETS_KEY; without the key, webhook
    sources are unavailable (503) while the rest of the gateway works."""
    vault = getattr(request.app.state, "webhook_vault", None)
    if vault is None:
        keys = request.app.state.ctx.settings.gateway_secrets_key
        if not keys:
            raise Unavailable("webhook sources are unavailable: GATEWAY_SECRETS_KEY is not set on this gateway")
        vault = request.app.state.webhook_vault = Vault(keys)
    return vault
