"""Signature verification as pure functions: what any partner's signing gets right or wrong."""

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.gateway.webhooks.signatures import BadSignature, generic_signature, verify_generic, verify_shopify

secrets_ = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=16, max_size=64)
bodies = st.binary(max_size=2048)
NOW = 1_800_000_000


def shopify_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@given(secrets_, bodies)
def test_shopify_signature_of_the_body_verifies(secret, body):
    verify_shopify([secret], body, shopify_hmac(secret, body))


@given(secrets_, bodies, st.data())
def test_shopify_signature_fails_when_any_byte_of_the_body_changes(secret, body, data):
    signature = shopify_hmac(secret, body)
    changed = body + b"x" if not body else bytearray(body)
    if body:
        index = data.draw(st.integers(0, len(body) - 1))
        changed[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(BadSignature):
        verify_shopify([secret], bytes(changed), signature)


@given(secrets_, secrets_, bodies)
def test_shopify_signature_verifies_against_any_accepted_secret(current, previous, body):
    verify_shopify([current, previous], body, shopify_hmac(previous, body))


@given(secrets_, bodies, st.integers(-300, 300))
def test_generic_signature_within_the_window_verifies(secret, body, skew):
    t = NOW + skew
    header = f"t={t},v1={generic_signature(secret, t, body)}"
    assert verify_generic([secret], body, header, now=NOW, tolerance=300) == t


@given(secrets_, bodies, st.integers(301, 10**6), st.sampled_from([-1, 1]))
def test_generic_signature_outside_the_window_fails_even_when_valid(secret, body, distance, sign):
    t = NOW + sign * distance
    with pytest.raises(BadSignature, match="300 s"):
        verify_generic([secret], body, f"t={t},v1={generic_signature(secret, t, body)}", now=NOW, tolerance=300)


@given(secrets_, bodies)
def test_generic_signature_is_bound_to_its_timestamp(secret, body):
    """A signature lifted onto a fresher timestamp (a replay dressed up) fails."""
    signature = generic_signature(secret, NOW - 1000, body)
    with pytest.raises(BadSignature):
        verify_generic([secret], body, f"t={NOW},v1={signature}", now=NOW, tolerance=300)
