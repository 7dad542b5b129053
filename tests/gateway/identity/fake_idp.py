"""A frontend app's identity provider at its HTTP boundary: a JWKS endpoint whose keys a test
rotates or takes down, and the signing keys to mint tokens with."""

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def jwk(key, kid: str, algorithm: str) -> dict[str, Any]:
    """The public JWK of `key`, as a provider publishes it."""
    algorithms = {"RS256": jwt.algorithms.RSAAlgorithm, "ES256": jwt.algorithms.ECAlgorithm}
    document = algorithms[algorithm].to_jwk(key.public_key(), as_dict=True)
    return document | {"kid": kid, "alg": algorithm, "use": "sig"}


@dataclass
class FakeJwks:
    """Serves `{"keys": keys}` over HTTP; `broken` answers 500, `garbage` a body that is no JWKS."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    broken: bool = False
    garbage: bool = False
    fetches: int = 0
    url: str = ""

    async def __aenter__(self) -> "FakeJwks":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/.well-known/jwks.json"
        return self

    async def __aexit__(self, *_) -> None:
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.fetches += 1
            if self.broken:
                status, body = "500 Internal Server Error", b"{}"
            elif self.garbage:
                status, body = "200 OK", b"<html>not a key set</html>"
            else:
                status, body = "200 OK", json.dumps({"keys": self.keys}).encode()
            head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            writer.write((head + "Connection: close\r\n\r\n").encode() + body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
