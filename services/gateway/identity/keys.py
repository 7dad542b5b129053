"""The API key format: `ll_<environment>_<random>`, shown once, stored as a SHA-256 digest.

`ll_live_` / `ll_test_` make a leaked key recognisable (secret scanners, log reviews); the first
eight random characters after it are stored as the key's visible prefix so a listing can say
which key is which without holding anything that authenticates.
"""

import hashlib
import re
import secrets

ENVIRONMENTS = ("live", "test")
PREFIX_RANDOM_CHARS = 8
_FORMAT = re.compile(r"^ll_(live|test)_[A-Za-z0-9_-]{40,64}$")


def new_key(environment: str = "live") -> tuple[str, str, bytes]:
    """A new key: (the key, its visible prefix, its digest)."""
    if environment not in ENVIRONMENTS:
        raise ValueError(f"environment must be one of {ENVIRONMENTS}")
    key = f"ll_{environment}_{secrets.token_urlsafe(32)}"
    return key, visible_prefix(key), digest(key)


def looks_like_key(value: str) -> bool:
    return bool(_FORMAT.match(value))


def visible_prefix(key: str) -> str:
    environment_part = key.split("_", 2)
    return f"ll_{environment_part[1]}_{environment_part[2][:PREFIX_RANDOM_CHARS]}"


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
