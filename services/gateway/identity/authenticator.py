"""One question per request: who is this? An `Authorization: Bearer` credential is either one of
our API keys (`ll_live_…` / `ll_test_…`) or a frontend app's JWT (docs/decisions/0012)."""

from typing import Protocol

from services.gateway.identity.store import KeyStore
from shared.errors import Unauthorized
from shared.identity import Identity


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Identity: ...


class Authenticator:
    def __init__(self, keys: KeyStore, jwt: TokenVerifier | None = None):
        self.keys = keys
        self.jwt = jwt

    async def authenticate(self, authorization: str | None) -> Identity:
        if not authorization:
            raise Unauthorized("missing credentials: send 'Authorization: Bearer <API key or JWT>'", error="invalid_request")
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthorized("the Authorization header must be 'Bearer <API key or JWT>'", error="invalid_request")
        if credential.startswith("ll_"):
            return await self.keys.authenticate(credential)
        if self.jwt is None:
            raise Unauthorized("not an API key, and this installation accepts no JWTs")
        return await self.jwt.verify(credential)
