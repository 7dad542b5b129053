"""Verifying partner signatures: pure functions of the secrets, the headers and the raw body.

Every comparison is `hmac.compare_digest` over digests of equal length, against every secret
currently accepted for the source (the current one, and the previous one during a rotation's
grace period), so an attacker learns nothing from timing and a rotation never drops a delivery.
"""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from shared.errors import Invalid, Unauthorized

SHOPIFY_HMAC_HEADER = "x-shopify-hmac-sha256"
GENERIC_SIGNATURE_HEADER = "limelight-signature"


class BadSignature(Unauthorized):
    """401: the delivery is not proven to come from the source's partner. Nothing is published."""

    def __init__(self, detail: str):
        super().__init__(detail, scheme="HMAC-SHA256", error="invalid_signature")


def _digest(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def verify_shopify(secrets: list[str], body: bytes, header: str | None) -> None:
    """`X-Shopify-Hmac-Sha256` must be base64(HMAC-SHA256(secret, raw body)) for one of `secrets`."""
    if not header:
        raise BadSignature("missing X-Shopify-Hmac-Sha256")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("X-Shopify-Hmac-Sha256 is not base64") from None
    if not _matches([given], [_digest(secret, body) for secret in secrets]):
        raise BadSignature("X-Shopify-Hmac-Sha256 does not match the body")


@dataclass(frozen=True)
class GenericSignature:
    timestamp: int
    signatures: tuple[bytes, ...]


def generic_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex v1 signature of a generic delivery: HMAC-SHA256(secret, f"{t}.{body}")."""
    return _digest(secret, f"{timestamp}.".encode() + body).hex()


def _matches(given: list[bytes] | tuple[bytes, ...], expected: list[bytes]) -> bool:
    # Every pair is compared, with no short-circuit on the first match: the time taken does not
    # say which signature or which secret matched.
    matched = False
    for signature in given:
        for digest in expected:
            matched |= hmac.compare_digest(signature, digest)
    return matched


def parse_generic(header: str | None) -> GenericSignature:
    """`t=<unix seconds>,v1=<hex>[,v1=<hex>...]`; unknown schemes (v0=, v2=) are ignored."""
    if not header:
        raise BadSignature("missing Limelight-Signature")
    timestamp: int | None = None
    signatures: list[bytes] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            # isascii: str.isdigit() also takes '²' and other digits int() refuses.
            if not (value.isascii() and value.isdigit()) or len(value) > 12 or timestamp is not None:
                raise BadSignature("Limelight-Signature: t must appear once, as unix seconds")
            timestamp = int(value)
        elif name == "v1":
            try:
                digest = bytes.fromhex(value)
            except ValueError:
                raise BadSignature("Limelight-Signature: v1 must be hex") from None
            if len(digest) == hashlib.sha256().digest_size:
                signatures.append(digest)
    if timestamp is None:
        raise BadSignature("Limelight-Signature has no t=")
    if not signatures:
        raise BadSignature("Limelight-Signature has no v1= signature")
    return GenericSignature(timestamp, tuple(signatures[:8]))


def verify_generic(secrets: list[str], body: bytes, header: str | None, *, now: float, tolerance: int) -> int:
    """Check freshness, then that one v1 matches one accepted secret; returns the timestamp."""
    signature = parse_generic(header)
    if abs(now - signature.timestamp) > tolerance:
        raise BadSignature(
            f"Limelight-Signature: t is more than {tolerance} s from the gateway's clock (replayed or clock skew)"
        )
    signed = f"{signature.timestamp}.".encode() + body
    if not _matches(signature.signatures, [_digest(secret, signed) for secret in secrets]):
        raise BadSignature("Limelight-Signature does not match the body")
    return signature.timestamp


# What each accepted Shopify topic's payload has at its top level (shopify.dev, webhook topics
# and the mandatory privacy webhooks); enough to tell one topic's payload from another's.
_SHOPIFY_SHAPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # topic: (keys it must have, keys it must not have)
    "orders/create": (frozenset({"id", "line_items"}), frozenset({"refund_line_items"})),
    "orders/paid": (frozenset({"id", "line_items"}), frozenset({"refund_line_items"})),
    "orders/updated": (frozenset({"id", "line_items"}), frozenset({"refund_line_items"})),
    "orders/cancelled": (frozenset({"id", "line_items"}), frozenset({"refund_line_items"})),
    "refunds/create": (frozenset({"id", "order_id", "refund_line_items"}), frozenset()),
    "customers/data_request": (frozenset({"shop_domain", "customer", "data_request"}), frozenset()),
    "customers/redact": (frozenset({"shop_domain", "customer", "orders_to_redact"}), frozenset()),
    "shop/redact": (frozenset({"shop_domain"}), frozenset({"customer", "line_items"})),
}


def check_shopify_shape(topic: str, body: bytes) -> None:
    """Refuse a verified body that is not the payload of `topic` (a signed body relabelled)."""
    shape = _SHOPIFY_SHAPES.get(topic)
    if shape is None:
        return
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise Invalid("body", "a Shopify webhook body must be JSON") from exc
    required, forbidden = shape
    if not isinstance(payload, dict) or not required <= payload.keys() or forbidden & payload.keys():
        raise Invalid("header.X-Shopify-Topic", f"the body is not a {topic} payload")


def check_generic_shape(body: bytes) -> None:
    """Refuse a verified generic delivery whose body is not a JSON object: every message of the
    generic format is one (docs/guide/attribution-orders.md), and a partner told 200 for a body
    its consumer can only dead-letter never learns of its mistake."""
    # Read as its consumer reads it (attribution's orders/reading.py `load`): UTF-8 text, so a
    # byte-order mark is refused here too, and nesting too deep to read is not JSON either.
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise Invalid("body", "a generic webhook body must be JSON (UTF-8, without a byte-order mark)") from exc
    if not isinstance(payload, dict):
        raise Invalid("body", "a generic webhook body must be a JSON object")
