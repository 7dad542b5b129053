"""The click id a redirect appends to its destination (`ll_click=`): the click itself, encrypted
and authenticated, so that the click travels with the visitor (docs/decisions/0061).

An order that carries the click id carries what crediting needs of the click: its id, its link,
its time, the visitor's keyed hash, whether it was flagged (and why, by kind) and the visitor's
audience-holdout group. Attribution opens it and, when no row of that click is stored (the
record never reached the database, or is still on its way), records the click from it before
crediting the order (services/attribution/clicks/recovery.py). A click id this installation did
not make opens to nothing: it is kept as the partner sent it and matches no click.

Sealed with AES-SIV (RFC 5297, `cryptography`'s AESSIV) under a 512-bit key derived with HKDF-
SHA256 from the installation's hash key (`VisitorHasher.token_key`): authenticated, so it cannot
be forged or altered without the key, and encrypted, so the visitor's keyed hash — one identifier
across every brand's shop — is not readable by the shop, its analytics or anyone the URL reaches.
SIV is deterministic and needs no nonce; every click's plaintext is unique (its random id).

Layout (then base64url without padding, canonical: 75 characters without a visitor, 118 with):

    version 1 byte (1, authenticated as associated data) | SIV 16 | sealed:
    click id 16 | link id 16 | time 6 (ms since the Unix epoch, big-endian)
    | facts 1 (bits 0-2: flag kind, 3-4: holdout group, 5: a visitor follows) | visitor hash 32
"""

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
_VERSION_BYTES = bytes([VERSION])
_PLAIN = 16 + 16 + 6 + 1
_SEALED = 1 + 16 + _PLAIN  # 56 bytes: 75 characters
_SEALED_WITH_VISITOR = _SEALED + 32  # 88 bytes: 118 characters
LENGTHS = (75, 118)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Why a click is never credited, by kind: what a recovered click's flag reason says.
FLAG_KINDS = ("", "head request", "no user agent", "bot", "data centre")
GROUPS = (None, "control", "treatment")


def derive_key(secret: bytes) -> bytes:
    """The click ids' key from the installation's hash key: HKDF-SHA256 (RFC 5869) under its own
    label, so it shares nothing with the keyed hashes made directly under that key."""
    return HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=b"limelight click id v1").derive(secret)


def flag_kind(reason: str | None) -> int:
    """The kind of a reason `shared.clicks.visitor.flag` gave (0: not flagged)."""
    if not reason:
        return 0
    for kind, name in enumerate(FLAG_KINDS[1:], start=1):
        if reason == name or reason.startswith(name + ":"):
            return kind
    return FLAG_KINDS.index("bot")  # a reason of another kind: flagged all the same


@dataclass(frozen=True, slots=True)
class ClickToken:
    click_id: uuid.UUID
    link_id: uuid.UUID
    clicked_at: datetime  # to the millisecond, UTC
    flag: int  # an index into FLAG_KINDS; 0: not flagged
    group: str | None  # the audience-holdout group, None outside a holdout
    visitor_hash: str | None  # hex (64 characters), as stored

    @property
    def flagged(self) -> bool:
        return self.flag != 0

    @property
    def flag_reason(self) -> str | None:
        return FLAG_KINDS[self.flag] if self.flag else None


def mint(key: bytes, token: ClickToken) -> str:
    """The click id of `token`, sealed under `key` (derive_key's)."""
    if not 0 <= token.flag < len(FLAG_KINDS) or token.group not in GROUPS:
        raise ValueError("unknown flag kind or holdout group")
    visitor = bytes.fromhex(token.visitor_hash) if token.visitor_hash else b""
    if len(visitor) not in (0, 32):
        raise ValueError("a visitor hash is 32 bytes")
    millis = (token.clicked_at - EPOCH) // timedelta(milliseconds=1)
    facts = token.flag | (GROUPS.index(token.group) << 3) | ((1 << 5) if visitor else 0)
    plain = token.click_id.bytes + token.link_id.bytes + millis.to_bytes(6, "big") + bytes([facts]) + visitor
    sealed = _VERSION_BYTES + AESSIV(key).encrypt(plain, [_VERSION_BYTES])
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def read(key: bytes | None, text: str) -> ClickToken | None:
    """The click `text` is the id of, when this installation made it (sealed under `key`); None
    for anything else: a plain UUID, another installation's or an altered id, another version."""
    if key is None or len(text) not in LENGTHS:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) not in (_SEALED, _SEALED_WITH_VISITOR) or raw[:1] != _VERSION_BYTES:
        return None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != text:
        return None  # the last character's unused bits set: one click has one id
    try:
        plain = AESSIV(key).decrypt(raw[1:], [_VERSION_BYTES])
    except InvalidTag:
        return None
    facts = plain[38]
    flag, group, has_visitor = facts & 0b111, (facts >> 3) & 0b11, bool(facts & (1 << 5))
    if flag >= len(FLAG_KINDS) or group >= len(GROUPS) or has_visitor != (len(plain) == _PLAIN + 32) or facts >> 6:
        return None  # sealed by us, so never expected: a layout this code does not know
    return ClickToken(
        click_id=uuid.UUID(bytes=plain[0:16]), link_id=uuid.UUID(bytes=plain[16:32]),
        clicked_at=EPOCH + timedelta(milliseconds=int.from_bytes(plain[32:38], "big")),
        flag=flag, group=GROUPS[group], visitor_hash=plain[39:71].hex() if has_visitor else None,
    )


def click_uuid(key: bytes | None, text: str) -> uuid.UUID | None:
    """The click a click id names: this installation's click id its click, a plain UUID (an id
    from before this layout) itself; None for anything else."""
    token = read(key, text)
    if token is not None:
        return token.click_id
    try:
        return uuid.UUID(text)
    except (ValueError, AttributeError):
        return None
